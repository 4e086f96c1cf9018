package app

import (
	"context"
	"encoding/xml"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

const buildConfig = `network: {title: Build Network, url: "https://news.example.org/network/", language: en}
members:
  - {id: au, name: ISS Australia, country: AU, region: Asia-Pacific, languages: [en], homepage: "https://au.example.org/", sources: [{feed: "https://au.example.org/feed/"}]}
  - {id: ch, name: SSI Suisse, country: CH, region: Europe, languages: [fr, de], homepage: "https://ch.example.org/"}
`

func buildItems() []news.Item {
	var out []news.Item
	// Sources as the config lists them (ch has only a homepage): items of others are not shown.
	for i, m := range []struct{ member, country, region, lang, source string }{
		{"au", "AU", "Asia-Pacific", "en", "https://au.example.org/feed/"}, {"ch", "CH", "Europe", "fr", "https://ch.example.org/"},
		{"ch", "CH", "Europe", "de", "https://ch.example.org/"}, {"au", "AU", "Asia-Pacific", "en", "https://au.example.org/feed/"},
	} {
		p := time.Date(2026, 3, 1, i, 0, 0, 0, time.UTC)
		id := fmt.Sprintf("b%d", i)
		out = append(out, news.Item{ID: id, Key: id, Member: m.member, Country: m.country, Region: m.region, Language: m.lang,
			Source: m.source, Title: "Item " + id, Link: "https://" + m.member + ".example.org/" + id,
			Published: p, Updated: p, FirstSeen: p})
	}
	return out
}

var (
	linkRE       = regexp.MustCompile(`\b(?:href|src|action)="([^"]*)"`)
	embedTitleRE = regexp.MustCompile(`<li[^>]*><a href="[^"]*" rel="noopener">([^<]*)</a>`)
	moreLinkRE   = regexp.MustCompile(`<p class="more"><a href="([^"]*)"`)
)

// buildOut stores items in a new embedded store and writes the site build makes of them
// under cfg into a new directory, which it returns.
func buildOut(t *testing.T, cfg *config.Config, items []news.Item) string {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "build.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Upsert(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	ws, err := buildServer(st, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := buildSite(context.Background(), ws, cfg, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildSite(t *testing.T) {
	cfg, err := config.Parse("build feeds.yaml", []byte(buildConfig))
	if err != nil {
		t.Fatal(err)
	}
	out := buildOut(t, cfg, buildItems())

	feeds := []struct {
		file string
		want []string // item IDs
	}{
		{"feed.atom", []string{"b3", "b2", "b1", "b0"}},
		{"members/ch/feed.atom", []string{"b2", "b1"}},
		{"countries/au/feed.atom", []string{"b3", "b0"}},
		{"languages/de/feed.atom", []string{"b2"}},
		{"languages/en/feed.atom", []string{"b3", "b0"}},
	}
	for _, tc := range feeds {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(out, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Links []struct {
					Rel  string `xml:"rel,attr"`
					Href string `xml:"href,attr"`
				} `xml:"link"`
				Entries []struct {
					ID string `xml:"id"`
				} `xml:"entry"`
			}
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range doc.Entries {
				ids = append(ids, strings.TrimPrefix(e.ID, "urn:networkfeed:"))
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("items %v, want %v", ids, tc.want)
			}
			for _, l := range doc.Links {
				switch l.Rel {
				case "self":
					if l.Href != cfg.Network.URL+tc.file {
						t.Errorf("self link %q, want %q", l.Href, cfg.Network.URL+tc.file)
					}
				case "next":
					t.Errorf("a static feed has a next link %q", l.Href)
				case "alternate":
					if strings.HasPrefix(l.Href, cfg.Network.URL) && !strings.Contains(l.Href, "/members/") {
						if _, err := os.Stat(filepath.Join(out, strings.TrimPrefix(l.Href, cfg.Network.URL))); err != nil {
							t.Errorf("alternate %s was not written", l.Href)
						}
					}
				}
			}
		})
	}
	for _, f := range []string{"feed.rss", "feed.json", "members/au/feed.json", "countries/ch/feed.rss", "languages/fr/feed.json", "opml.xml", "sources.json", "sources.csv", "index.html", "sources/index.html", "members/au/index.html",
		"share/index.html", "embed.html", "members/au/embed.html", "members/ch/embed.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s was not written", f)
		}
	}
	// The embedded lists hold their selection's items, and link back to the static pages.
	for _, tc := range []struct {
		file, more string
		want       []string // item titles
	}{
		{"embed.html", "index.html", []string{"Item b3", "Item b2", "Item b1", "Item b0"}},
		{"members/ch/embed.html", "index.html", []string{"Item b2", "Item b1"}},
	} {
		b, err := os.ReadFile(filepath.Join(out, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var titles []string
		for _, m := range embedTitleRE.FindAllSubmatch(b, -1) {
			titles = append(titles, string(m[1]))
		}
		if !slices.Equal(titles, tc.want) {
			t.Errorf("%s: items %v, want %v", tc.file, titles, tc.want)
		}
		if m := moreLinkRE.FindSubmatch(b); m == nil || path.Base(string(m[1])) != tc.more || strings.Contains(string(m[1]), "://") {
			t.Errorf("%s: \"more news\" link %q, want a relative link to %s", tc.file, m, tc.more)
		}
	}
	// The static dashboard's times are dates and times: "5 minutes ago" would stay written
	// long after it stopped being true.
	dash, err := os.ReadFile(filepath.Join(out, "sources/index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if d := string(dash); strings.Contains(d, " ago<") || strings.Contains(d, ">in ") || !strings.Contains(d, " UTC<") {
		t.Errorf("sources/index.html shows times relative to the build, not dates and times")
	}
	// The share page previews the static list. Forms send their choice to the live site:
	// a written file ignores the query a form adds (the river's filter showed every item).
	for _, tc := range []struct{ file, want string }{
		{"share/index.html", `src="../embed.html"`},
		{"share/index.html", `action="https://news.example.org/network/share"`},
		{"index.html", `action="https://news.example.org/network/"`},
	} {
		b, err := os.ReadFile(filepath.Join(out, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("%s lacks %s", tc.file, tc.want)
		}
	}

	// Every page, served from a sub-path, links only to files that exist there.
	srv := httptest.NewServer(http.StripPrefix("/some/sub/path", http.FileServer(http.Dir(out))))
	defer srv.Close()
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".html") {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		pageURL, _ := url.Parse(srv.URL + "/some/sub/path/" + filepath.ToSlash(rel))
		for _, m := range linkRE.FindAllSubmatch(b, -1) {
			link := strings.ReplaceAll(string(m[1]), "&amp;", "&")
			if strings.HasPrefix(link, "/") && !strings.HasPrefix(link, "//") {
				t.Errorf("%s: root-relative link %q breaks under a sub-path", rel, link)
				continue
			}
			u, err := pageURL.Parse(link)
			if err != nil || u.Host != pageURL.Host {
				continue // elsewhere: member sites, the live network site
			}
			u.Fragment = ""
			res, err := srv.Client().Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: link %q -> %s: HTTP %d", rel, link, u.Path, res.StatusCode)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBuildRegionalLanguageTags: `build -out` failed on the shipped feeds.yaml ("static
// feed languages/zh-Hant/: unknown language \"zh-hant\"") because ISS Hong Kong publishes
// in zh-Hant; items are stored under base languages, so the language feeds are too.
func TestBuildRegionalLanguageTags(t *testing.T) {
	cfg, err := config.Parse("build feeds.yaml", []byte(buildConfig+
		`  - {id: hk, name: ISS Hong Kong, country: HK, region: Asia-Pacific, languages: [zh-Hant, en-GB], homepage: "https://hk.example.org/"}
`))
	if err != nil {
		t.Fatal(err)
	}
	p := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	out := buildOut(t, cfg, append(buildItems(), news.Item{ID: "hk1", Key: "hk1", Member: "hk", Country: "HK", Region: "Asia-Pacific", Language: "zh",
		Source: "https://hk.example.org/", Title: "國際社會服務社", Link: "https://hk.example.org/hk1", Published: p, Updated: p, FirstSeen: p}))
	b, err := os.ReadFile(filepath.Join(out, "languages/zh/feed.atom"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "urn:networkfeed:hk1") {
		t.Errorf("languages/zh/feed.atom lacks the zh item:\n%s", b)
	}
	for _, f := range []string{"languages/zh-Hant", "languages/en-GB"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s was written: items are filed under base languages", f)
		}
	}
}

// A write that fails (a full disk, here a rename onto a directory) leaves nothing behind:
// a half-written "feed.atom.tmp" stayed in the site, to be published with it.
func TestWriteFileFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "feed.atom", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := writeFile(filepath.Join(dir, "feed.atom"), []byte("<feed/>"))
	if err == nil || !strings.Contains(err.Error(), "feed.atom") {
		t.Errorf("err %v, want one naming feed.atom", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
	// A written file is readable by the web server that hosts the site.
	if err := writeFile(filepath.Join(dir, "index.html"), []byte("<p>")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "index.html")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("index.html: %v, %v", fi.Mode(), err)
	}
}
