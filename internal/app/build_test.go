package app

import (
	"bytes"
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
	out := t.TempDir()
	if err := buildInto(t, cfg, items, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// buildInto stores items in a new embedded store and builds the site of them under cfg
// into out.
func buildInto(t *testing.T, cfg *config.Config, items []news.Item, out string) error {
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
	_, err = buildSite(context.Background(), ws, cfg, out)
	return err
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

const buildMemberHK = `  - {id: hk, name: ISS Hong Kong, country: HK, region: Asia-Pacific, languages: [zh-Hant, en-GB], homepage: "https://hk.example.org/"}
`

func buildItemsHK() []news.Item {
	p := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return append(buildItems(), news.Item{ID: "hk1", Key: "hk1", Member: "hk", Country: "HK", Region: "Asia-Pacific", Language: "zh",
		Source: "https://hk.example.org/", Title: "國際社會服務社", Link: "https://hk.example.org/hk1", Published: p, Updated: p, FirstSeen: p})
}

func parseBuildConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("build feeds.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkFiles reports the files of want (relative to dir) that are missing, and those
// of gone that exist.
func checkFiles(t *testing.T, dir string, want, gone []string) {
	t.Helper()
	for _, f := range want {
		if _, err := os.Lstat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s is gone: %v", f, err)
		}
	}
	for _, f := range gone {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s is still there", f)
		}
	}
}

// TestBuildRemovesStaleFiles: a member removed from feeds.yaml kept its page, its embed
// and its feeds in the built site forever (its items are hidden everywhere else), and
// so did the feeds of a country and a language only it had. The next build removes the
// files an earlier build wrote and it does not, and nothing else: not an operator's own
// files, nor what the list of built files names outside the directory or through a
// symbolic link.
func TestBuildRemovesStaleFiles(t *testing.T) {
	out := t.TempDir()
	if err := buildInto(t, parseBuildConfig(t, buildConfig+buildMemberHK), buildItemsHK(), out); err != nil {
		t.Fatal(err)
	}
	hkFiles := []string{"members/hk/index.html", "members/hk/embed.html", "members/hk/feed.atom", "members/hk/feed.rss",
		"members/hk/feed.json", "countries/hk/feed.atom", "languages/zh/feed.json"}
	checkFiles(t, out, hkFiles, nil)

	// An operator's files, and a list of built files tampered with: paths outside the
	// directory, and paths through a symbolic link to a directory elsewhere.
	own := []string{"CNAME", "robots.txt", "own/page.html", "members/hk/notes.txt"}
	for _, f := range own {
		writeTestFile(t, filepath.Join(out, f), "mine")
	}
	elsewhere := t.TempDir()
	writeTestFile(t, filepath.Join(elsewhere, "feed.atom"), "not the site's")
	writeTestFile(t, filepath.Join(elsewhere, "site", "outside.txt"), "not the site's")
	if err := os.Symlink(elsewhere, filepath.Join(out, "members", "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "feed.atom"), filepath.Join(out, "linked.atom")); err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(out, builtList))
	if err != nil {
		t.Fatal(err)
	}
	tampered := string(list) + strings.Join([]string{"../" + filepath.Base(elsewhere) + "/feed.atom", elsewhere + "/feed.atom",
		"members/hk/../../CNAME", "./robots.txt", "members/linked/feed.atom", "linked.atom", "own", builtList,
		"members/linked/../../" + filepath.Base(elsewhere) + "/site/outside.txt"}, "\n") + "\n"
	writeTestFile(t, filepath.Join(out, builtList), tampered)

	if err := buildInto(t, parseBuildConfig(t, buildConfig), buildItems(), out); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, out, append(own, "members/au/feed.atom", "members/ch/index.html", "countries/au/feed.atom", "languages/en/feed.atom",
		"index.html", "members/linked", "linked.atom", builtList), hkFiles)
	checkFiles(t, elsewhere, []string{"feed.atom", "site/outside.txt"}, nil)
	// Directories left empty go; one holding an operator's file stays.
	checkFiles(t, out, []string{"members/hk"}, []string{"countries/hk", "languages/zh"})

	// The list now names what this build wrote, and nothing of the operator's.
	names := builtNames(t, out)
	for _, f := range append(own, "members/hk/feed.atom", "linked.atom", "members/linked/feed.atom") {
		if names[f] {
			t.Errorf("the list of built files names %s", f)
		}
	}
	if !names["members/au/feed.atom"] {
		t.Errorf("the list of built files lacks members/au/feed.atom")
	}
}

// builtNames reads the paths the list of built files in out names.
func builtNames(t *testing.T, out string) map[string]bool {
	t.Helper()
	files, err := readBuilt(out)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for p := range files {
		names[p] = true
	}
	return names
}

// TestBuildKeepsReplacedStaleFile: an operator who removes a member from feeds.yaml and
// puts a page of their own where its page was (where the member went) keeps it. Before,
// the next build removed it: the list named the path, whatever the file held since. A
// file listed without a hash (a list of an earlier version) is still removed.
func TestBuildKeepsReplacedStaleFile(t *testing.T) {
	out := t.TempDir()
	if err := buildInto(t, parseBuildConfig(t, buildConfig+buildMemberHK), buildItemsHK(), out); err != nil {
		t.Fatal(err)
	}
	mine := "<p>ISS Hong Kong's news is now at https://hk.example.org/</p>"
	writeTestFile(t, filepath.Join(out, "members/hk/index.html"), mine)
	list, err := os.ReadFile(filepath.Join(out, builtList))
	if err != nil {
		t.Fatal(err)
	}
	// members/hk/feed.atom as a list without hashes names it.
	old := regexp.MustCompile(`(?m)^(members/hk/feed\.atom)\t[0-9a-f]+$`).ReplaceAllString(string(list), "$1")
	writeTestFile(t, filepath.Join(out, builtList), old)

	if err := buildInto(t, parseBuildConfig(t, buildConfig), buildItems(), out); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, out, []string{"members/hk/index.html"}, []string{"members/hk/feed.atom", "members/hk/feed.rss", "members/hk/embed.html"})
	if b, err := os.ReadFile(filepath.Join(out, "members/hk/index.html")); err != nil || string(b) != mine {
		t.Errorf("members/hk/index.html: %q, %v; want the operator's page", b, err)
	}
	if builtNames(t, out)["members/hk/index.html"] {
		t.Errorf("the list of built files still names the operator's members/hk/index.html")
	}
}

// TestBuildWithoutListRemovesNothing: a directory built before build listed its files
// (or never built) has nothing removed from it: build cannot tell its files from others.
func TestBuildWithoutListRemovesNothing(t *testing.T) {
	out := t.TempDir()
	old := []string{"members/old/feed.atom", "members/old/index.html", "static/style.0123abcd.css", "CNAME"}
	for _, f := range old {
		writeTestFile(t, filepath.Join(out, f), "older")
	}
	if err := buildInto(t, parseBuildConfig(t, buildConfig), buildItems(), out); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, out, append(old, builtList), nil)
	// The next build removes nothing either: those files were not this build's.
	if err := buildInto(t, parseBuildConfig(t, buildConfig), buildItems(), out); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, out, old, nil)
}

// TestFailedBuildRemovesNothing: a build that fails midway removes nothing, and lists
// what it wrote with what the build before it wrote: the next build removes both a member
// removed before the failed build and one added to it only.
func TestFailedBuildRemovesNothing(t *testing.T) {
	out := t.TempDir()
	if err := buildInto(t, parseBuildConfig(t, buildConfig+buildMemberHK), buildItemsHK(), out); err != nil {
		t.Fatal(err)
	}
	blockOPML(t, out)
	nz := `  - {id: nz, name: ISS Aotearoa, country: NZ, region: Asia-Pacific, languages: [en], homepage: "https://nz.example.org/"}
`
	if err := buildInto(t, parseBuildConfig(t, buildConfig+nz), buildItems(), out); err == nil {
		t.Fatal("the build did not fail")
	}
	checkFiles(t, out, []string{"members/au/index.html", "members/hk/index.html", "members/hk/feed.atom", "languages/zh/feed.atom",
		"members/nz/feed.atom", "countries/nz/feed.atom"}, nil)
	unblockOPML(t, out)
	if err := buildInto(t, parseBuildConfig(t, buildConfig), buildItems(), out); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, out, []string{"members/au/index.html", "opml.xml"}, []string{"members/hk", "languages/zh", "countries/hk", "members/nz", "countries/nz"})
}

// TestFailedBuildListsWhatItWrote: a file both the last build and a failed one wrote is
// listed as the failed one wrote it, so the next build, which no longer writes it,
// removes it (and does not take it for one replaced by the operator).
func TestFailedBuildListsWhatItWrote(t *testing.T) {
	out := t.TempDir()
	if err := buildInto(t, parseBuildConfig(t, buildConfig+buildMemberHK), buildItemsHK(), out); err != nil {
		t.Fatal(err)
	}
	blockOPML(t, out)
	p := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	more := append(buildItemsHK(), news.Item{ID: "hk2", Key: "hk2", Member: "hk", Country: "HK", Region: "Asia-Pacific", Language: "zh",
		Source: "https://hk.example.org/", Title: "新聞", Link: "https://hk.example.org/hk2", Published: p, Updated: p, FirstSeen: p})
	before, err := os.ReadFile(filepath.Join(out, "members/hk/feed.atom"))
	if err != nil {
		t.Fatal(err)
	}
	if err := buildInto(t, parseBuildConfig(t, buildConfig+buildMemberHK), more, out); err == nil {
		t.Fatal("the build did not fail")
	}
	if after, err := os.ReadFile(filepath.Join(out, "members/hk/feed.atom")); err != nil || bytes.Equal(before, after) {
		t.Fatalf("the failed build did not rewrite members/hk/feed.atom (%v)", err)
	}
	unblockOPML(t, out)
	if err := buildInto(t, parseBuildConfig(t, buildConfig), buildItems(), out); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, out, nil, []string{"members/hk/feed.atom", "members/hk"})
}

// TestBuildRemovesLeftTemps: a build killed while writing a file leaves its temporary
// file beside it (".feed.atom.123.tmp"), which was published with the site until deleted
// by hand. The next build removes such files of the files it writes, unless newer than
// itself (another build's, writing now); no other hidden file.
func TestBuildRemovesLeftTemps(t *testing.T) {
	out := t.TempDir()
	cfg := parseBuildConfig(t, buildConfig)
	if err := buildInto(t, cfg, buildItems(), out); err != nil {
		t.Fatal(err)
	}
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, tc := range []struct {
		file string
		when time.Time
	}{
		{".feed.atom.12345.tmp", past}, {"members/au/.index.html.999.tmp", past}, {"." + builtList + ".4.tmp", past},
		{".feed.rss.777.tmp", future}, {".feed.json.x1.tmp", past}, {".mine.1.tmp", past}, {"own/.page.html.2.tmp", past},
	} {
		writeTestFile(t, filepath.Join(out, tc.file), "<feed>")
		if err := os.Chtimes(filepath.Join(out, tc.file), tc.when, tc.when); err != nil {
			t.Fatal(err)
		}
	}
	if err := buildInto(t, cfg, buildItems(), out); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, out, []string{".feed.rss.777.tmp", ".feed.json.x1.tmp", ".mine.1.tmp", "own/.page.html.2.tmp", "feed.atom"},
		[]string{".feed.atom.12345.tmp", "members/au/.index.html.999.tmp", "." + builtList + ".4.tmp"})
}

// blockOPML puts a directory where the build in out writes opml.xml, so that the next
// build fails after its feeds; unblockOPML takes it away.
func blockOPML(t *testing.T, out string) {
	t.Helper()
	if err := os.Remove(filepath.Join(out, "opml.xml")); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(out, "opml.xml", "x"), "in the way")
}

func unblockOPML(t *testing.T, out string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(out, "opml.xml")); err != nil {
		t.Fatal(err)
	}
}
