package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// needTool skips when a program is missing, except under CI=true where it fails.
func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI=true (Debian package %s)", n, n)
			}
			t.Skipf("%s is not installed", n)
		}
	}
}

// newsboatItems has the hard cases of the filter items plus markup-like text, an item
// without a link and one without a date.
func newsboatItems() []news.Item {
	items := filterItems()
	odd := mk("odd1", "au", "en", 14, `Fish & chips <b>not bold</b> "quoted" ]]> end`)
	odd.Content = `<p>Content with <a href="https://au.example.org/x?a=1&amp;b=2">a link</a></p>`
	nolink := mk("nolink", "us", "en", 15, "An item without a link")
	nolink.Link = ""
	undated := mk("undated", "fr", "fr", 16, "Élément sans date")
	undated.Precision = news.PrecisionNone
	return append(items, odd, nolink, undated)
}

// TestNewsboat reads every feed with newsboat, a real feed reader, one cache per feed
// (newsboat merges items with equal GUIDs across feeds), and checks that it holds every
// item with its title and link.
func TestNewsboat(t *testing.T) {
	needTool(t, "newsboat", "sqlite3")
	f := newFeedFixture(t, newsboatItems())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, path := range []string{
		"/feed.rss", "/feed.atom",
		"/feed.rss?lang=fr", "/feed.atom?member=fr,ch&q=enfance",
		"/members/au/feed.rss", "/members/au/feed.atom",
		"/feed.atom?limit=4&before=" + formatCursor(news.Cursor{Time: t0.Add(10 * time.Hour), ID: "i10"}),
	} {
		t.Run(path, func(t *testing.T) {
			format := "rss"
			if strings.Contains(path, ".atom") {
				format = "atom"
			}
			_, body := f.get(t, path)
			want := parseFeed(t, format, body).IDs
			if len(want) == 0 {
				t.Fatalf("%s is empty: a test of nothing", path)
			}
			dir := t.TempDir()
			url := f.srv.URL + path
			cache, conf := filepath.Join(dir, "cache.db"), filepath.Join(dir, "config")
			must(t, os.WriteFile(filepath.Join(dir, "urls"), []byte(url+"\n"), 0o644))
			must(t, os.WriteFile(conf, []byte("download-timeout 10\nreload-threads 1\n"), 0o644))
			cmd := exec.CommandContext(ctx, "newsboat", "-u", filepath.Join(dir, "urls"), "-c", cache, "-C", conf, "-x", "reload")
			cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("newsboat: %v\n%s", err, out)
			}
			out, err := exec.CommandContext(ctx, "sqlite3", "-separator", "\t", cache,
				"SELECT guid, title, url FROM rss_item WHERE feedurl = '"+strings.ReplaceAll(url, "'", "''")+"' ORDER BY guid").CombinedOutput()
			if err != nil {
				t.Fatalf("sqlite3: %v\n%s", err, out)
			}
			got := map[string][2]string{}
			for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
				if p := strings.Split(line, "\t"); len(p) == 3 {
					got[strings.TrimPrefix(p[0], "urn:networkfeed:")] = [2]string{p[1], p[2]}
				}
			}
			items := map[string]news.Item{}
			for _, it := range newsboatItems() {
				items[it.ID] = it
			}
			var gotIDs []string
			for id := range got {
				gotIDs = append(gotIDs, id)
			}
			slices.Sort(gotIDs)
			wantSorted := slices.Sorted(slices.Values(want))
			if !slices.Equal(gotIDs, wantSorted) {
				t.Fatalf("newsboat read items %v, want %v\n%s", gotIDs, wantSorted, out)
			}
			for id, g := range got {
				it := items[id]
				if g[0] != it.Title {
					t.Errorf("%s: newsboat title %q, want %q", id, g[0], it.Title)
				}
				if it.Link != "" && g[1] != it.Link {
					t.Errorf("%s: newsboat link %q, want %q", id, g[1], it.Link)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
