package app

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
)

func TestReadOPML(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "opml", "import.opml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	feeds, err := readOPML(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []opmlFeed{
		{"ISS France", "https://www.iss-france.example.org/rss.xml", "https://www.iss-france.example.org/", "Europe", ""},
		{"ISS France (English)", "https://www.iss-france.example.org/en/rss.xml", "https://iss-france.example.org/en/", "Europe", ""},
		{"ISS Germany", "https://iss-germany.example.org/feed/", "https://iss-germany.example.org/", "Europe", ""},
		{"ISS Japan news", "https://www.iss-japan.example.org/feed.atom", "", "Elsewhere", ""},
		{"Service Social International – Sénégal", "https://ssi-senegal.example.org/feed", "https://ssi-senegal.example.org/", "Africa", "SN"},
		{"Kinship Care Network", "https://kinship.example.net/atom.xml", "", "Elsewhere", ""},
	}
	if !slices.Equal(feeds, want) {
		t.Errorf("feeds\n%+v\nwant\n%+v", feeds, want)
	}
	if _, err := readOPML(strings.NewReader("<html>not opml</html>")); err == nil {
		t.Error("an HTML file was read as OPML")
	}
}

// keepsLines reports whether every line of orig appears in out, in order, with only
// whole lines inserted between them.
func keepsLines(orig, out string) bool {
	ol, nl := strings.Split(orig, "\n"), strings.Split(out, "\n")
	j := 0
	for _, l := range nl {
		if j < len(ol) && l == ol[j] {
			j++
		}
	}
	return j == len(ol)
}

func TestImportOPML(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "opml", "feeds.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", "opml", "import.opml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	feeds, err := readOPML(f)
	if err != nil {
		t.Fatal(err)
	}
	out, res, err := importOPML("feeds.yaml", src, feeds)
	if err != nil {
		t.Fatal(err)
	}
	if !keepsLines(string(src), string(out)) {
		t.Errorf("an existing line changed or went missing:\n%s", out)
	}
	cfg, err := config.Parse("feeds.yaml", out)
	if err != nil {
		t.Fatalf("imported config: %v\n%s", err, out)
	}
	sources := func(id string) []string {
		m, ok := cfg.Member(id)
		if !ok {
			t.Fatalf("no member %s in\n%s", id, out)
		}
		var s []string
		for _, src := range m.Sources {
			s = append(s, src.URL())
		}
		return s
	}
	tests := []struct {
		member string
		want   []string
	}{
		{"iss-france", []string{"https://www.iss-france.example.org/rss.xml", "https://www.iss-france.example.org/en/rss.xml"}},
		{"iss-germany", []string{"https://iss-germany.example.org/feed/"}},
		{"iss-japan", []string{"https://www.iss-japan.example.org/news/", "https://www.iss-japan.example.org/feed.atom"}},
		{"service-social-international-s-n-gal", []string{"https://ssi-senegal.example.org/feed"}},
		{"kinship-care-network", []string{"https://kinship.example.net/atom.xml"}},
	}
	for _, tc := range tests {
		t.Run(tc.member, func(t *testing.T) {
			if got := sources(tc.member); !slices.Equal(got, tc.want) {
				t.Errorf("sources %v, want %v", got, tc.want)
			}
		})
	}
	if m, _ := cfg.Member("service-social-international-s-n-gal"); m.Country != "SN" || m.Region != "Africa" || m.Homepage != "https://ssi-senegal.example.org/" {
		t.Errorf("new member %+v lacks country, region or homepage from the OPML", m)
	}
	if m, _ := cfg.Member("iss-japan"); m.Sources[0].Select == nil || m.Sources[0].Select.Title != "h2" {
		t.Error("the page source's selectors were disturbed")
	}
	if !slices.Equal(res.Skipped, []string{"https://www.iss-france.example.org/rss.xml"}) || len(res.NewMembers) != 2 || len(res.Added) != 3 {
		t.Errorf("result %+v", res)
	}
	if !bytes.Contains(out, []byte("# imported from OPML")) {
		t.Error("new members are not marked as imported")
	}

	// A second import of the same list changes nothing.
	again, res2, err := importOPML("feeds.yaml", out, feeds)
	if err != nil || !bytes.Equal(again, out) || len(res2.Skipped) != len(feeds) {
		t.Errorf("second import: err %v, changed %v, skipped %d of %d", err, !bytes.Equal(again, out), len(res2.Skipped), len(feeds))
	}
}

func TestImportOPMLRefuses(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"flow style members", "members: [{id: a, name: A, homepage: \"https://a.example.org/\"}]\n", "block list of members"},
		{"flow style member", "members:\n  - {id: a, name: A, homepage: \"https://a.example.org/\"}\n", "flow style"},
		{"invalid config", "members:\n  - id: A!\n    name: A\n", "must match"},
	}
	feeds := []opmlFeed{{Title: "A", XMLURL: "https://a.example.org/feed", HTMLURL: "https://a.example.org/"}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := importOPML("feeds.yaml", []byte(tc.yaml), feeds)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestImportOPMLCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "feeds.yaml")
	src, _ := os.ReadFile(filepath.Join("testdata", "opml", "feeds.yaml"))
	if err := os.WriteFile(cfgPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	env := func(k string) string { return map[string]string{"NETWORKFEED_CONFIG": cfgPath}[k] }
	if code := Run([]string{"networkfeed", "import-opml", filepath.Join("testdata", "opml", "import.opml")}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "3 added to members, 2 new members, 1 already listed") {
		t.Errorf("output %q", stdout.String())
	}
	if _, err := config.Load(cfgPath); err != nil {
		t.Errorf("written config: %v", err)
	}
}
