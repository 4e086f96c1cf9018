package app

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	"github.com/iss-network/networkfeed/internal/web"
)

// memberSites serves testdata/sites as a few member sites on loopback.
func memberSites(t *testing.T) *httptest.Server {
	t.Helper()
	files := map[string]struct{ file, ctype string }{
		"/au/feed.xml":  {"au-feed.xml", "application/rss+xml"}, // ISO-8859-1, declared in the XML declaration only
		"/us/atom.xml":  {"us-atom.xml", "application/atom+xml"},
		"/jp/feed.json": {"jp-feed.json", "application/feed+json"},
		"/gs/news.html": {"gs-news.html", "text/html; charset=utf-8"},
		"/ve/":          {"ve-home.html", "text/html; charset=utf-8"},
		"/ve/feed.xml":  {"ve-feed.xml", "application/rss+xml"},
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken/feed.xml" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "sites", f.file))
		if err != nil {
			t.Error(err)
			return
		}
		b = bytes.ReplaceAll(b, []byte("{{base}}"), []byte(srv.URL))
		etag := fmt.Sprintf(`"%x"`, len(b))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", f.ctype)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeConfig(t *testing.T, base string) string {
	t.Helper()
	cfg := fmt.Sprintf(`network: {title: ISS Network News, url: "https://news.example.org/", language: en}
fetch: {interval: 30m, timeout: 5s, max_body: 1MiB, allow_private_addresses: true}
members:
  - {id: iss-australia, name: ISS Australia, country: AU, region: Asia-Pacific, languages: [en], sources: [{feed: "%[1]s/au/feed.xml"}]}
  - {id: iss-usa, name: ISS USA, country: US, region: Americas, languages: [en], sources: [{feed: "%[1]s/us/atom.xml"}]}
  - {id: iss-japan, name: ISS Japan, country: JP, region: Asia-Pacific, languages: [ja], sources: [{feed: "%[1]s/jp/feed.json"}]}
  - id: iss-gs
    name: ISS General Secretariat
    country: CH
    region: Europe
    languages: [en, fr]
    sources:
      - page: "%[1]s/gs/news.html"
        select: {item: "div.item", title: "h2", link: "h2 a", summary: "p"}
  - {id: iss-venezuela, name: SSI Venezuela, country: VE, region: Americas, languages: [es], homepage: "%[1]s/ve/"}
  - {id: iss-broken, name: ISS Broken, country: BE, region: Europe, languages: [fr], sources: [{feed: "%[1]s/broken/feed.xml"}]}
`, base)
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(append([]string{"networkfeed"}, args...), func(string) string { return "" }, &out, &errb)
	return out.String() + errb.String(), code
}

// TestEndToEnd polls local member sites (RSS in ISO-8859-1, Atom, JSON Feed, a page with
// selectors, a homepage with a discovered feed, a broken feed), polls again as a new
// process would, and reads the three output feeds and the web view.
func TestEndToEnd(t *testing.T) {
	sites := memberSites(t)
	cfgPath := writeConfig(t, sites.URL)
	storePath := filepath.Join(t.TempDir(), "nf.db")

	out, code := runCmd(t, "check", "-config", cfgPath)
	if code != 0 || !strings.Contains(out, "ok: 6 members, 6 sources") {
		t.Fatalf("check: %d %s", code, out)
	}
	out, code = runCmd(t, "poll", "-config", cfgPath, "-store", storePath)
	if code != 0 {
		t.Fatalf("poll exit %d: %s", code, out)
	}
	if !strings.Contains(out, "7 new items, 1 failing") || !strings.Contains(out, "HTTP 500") {
		t.Fatalf("poll output:\n%s", out)
	}
	// A restart (a new process on the same store) adds nothing already stored.
	out, code = runCmd(t, "poll", "-config", cfgPath, "-store", storePath)
	if code != 0 || !strings.Contains(out, "0 new items, 1 failing") {
		t.Fatalf("second poll: %d\n%s", code, out)
	}

	st, err := boltstore.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := web.New(web.Options{Store: st, Config: func() *config.Config { return cfg }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	defer srv.Close()

	bodies := map[string][]byte{}
	for _, p := range []string{"/feed.rss", "/feed.atom", "/feed.json", "/", "/sources", "/members/iss-gs", "/members/iss-australia/feed.atom"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", p, resp.StatusCode, b)
		}
		bodies[p] = b
		// Nothing a member sent executes anywhere we publish.
		low := strings.ToLower(string(b))
		for _, bad := range []string{"<script", "alert(", "onerror", "onload", "javascript:"} {
			if strings.Contains(low, bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
	}
	for _, p := range []string{"/feed.rss", "/feed.atom", "/feed.json", "/"} {
		if !strings.Contains(string(bodies[p]), "Zürich") || !strings.Contains(string(bodies[p]), "国際養子縁組のガイド") {
			t.Errorf("%s lacks the Latin-1 or Japanese title as UTF-8", p)
		}
	}
	if strings.Contains(string(bodies["/feed.rss"]), "spambots") {
		t.Errorf("cloaked e-mail text survived")
	}

	// RSS: every item has a guid and a source; the channel a self link.
	var rss struct {
		Channel struct {
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"http://www.w3.org/2005/Atom link"`
			Items []struct {
				GUID   string `xml:"guid"`
				Title  string `xml:"title"`
				Source string `xml:"source"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(bodies["/feed.rss"], &rss); err != nil {
		t.Fatal(err)
	}
	if len(rss.Channel.Items) != 7 {
		t.Errorf("RSS has %d items, want 7", len(rss.Channel.Items))
	}
	self := false
	for _, l := range rss.Channel.Links {
		self = self || (l.Rel == "self" && l.Href == "https://news.example.org/feed.rss")
	}
	if !self {
		t.Errorf("RSS channel lacks atom:link rel=self: %+v", rss.Channel.Links)
	}
	for _, it := range rss.Channel.Items {
		if it.GUID == "" || it.Source == "" {
			t.Errorf("RSS item %q lacks guid or source", it.Title)
		}
	}
	// Ids are the same in every format.
	var jf struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(bodies["/feed.json"], &jf); err != nil {
		t.Fatal(err)
	}
	if len(jf.Items) != 7 || jf.Items[0].ID != rss.Channel.Items[0].GUID {
		t.Errorf("JSON items %v vs RSS first guid %q", jf.Items, rss.Channel.Items[0].GUID)
	}
	if !regexp.MustCompile(`iss-broken.*failing`).Match(bodies["/sources"]) && !strings.Contains(string(bodies["/sources"]), "HTTP 500") {
		t.Errorf("dashboard does not show the broken source failing")
	}

	// Conditional requests answer 304; gzip when asked.
	resp, _ := http.Get(srv.URL + "/feed.atom")
	etag := resp.Header.Get("ETag")
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/feed.atom", nil)
	req.Header.Set("If-None-Match", etag)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET with %q = %d, want 304", etag, resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/feed.atom", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	tr := &http.Transport{DisableCompression: true}
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("no gzip: %v", resp.Header)
	}

	// Unknown filter values are a 400 with a message, not an empty feed.
	resp, _ = http.Get(srv.URL + "/feed.atom?member=nobody")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `unknown member "nobody"`) {
		t.Errorf("unknown member: %d %s", resp.StatusCode, b)
	}

	validateExternally(t, bodies)
}

// validateExternally reads the RSS and Atom output with Debian's python3-feedparser
// (no bozo, every item) and checks the JSON Feed against its schema with ajv.
func validateExternally(t *testing.T, bodies map[string][]byte) {
	dir := t.TempDir()
	for name, p := range map[string]string{"feed.rss": "/feed.rss", "feed.atom": "/feed.atom", "feed.json": "/feed.json"} {
		os.WriteFile(filepath.Join(dir, name), bodies[p], 0o644)
	}
	ci := os.Getenv("CI") == "true"
	t.Run("feedparser", func(t *testing.T) {
		if err := exec.Command("/usr/bin/python3", "-c", "import feedparser").Run(); err != nil {
			if ci {
				t.Fatal("python3-feedparser is missing in CI")
			}
			t.Skip("python3-feedparser not installed")
		}
		out, err := exec.Command("/usr/bin/python3", "../publish/testdata/validate_feed.py", filepath.Join(dir, "feed.rss"), filepath.Join(dir, "feed.atom")).Output()
		if err != nil {
			t.Fatalf("feedparser: %v", err)
		}
		var rep map[string]struct {
			Bozo    int    `json:"bozo"`
			Exc     string `json:"bozo_exception"`
			Entries []any  `json:"entries"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("feedparser output: %v\n%s", err, out)
		}
		for f, r := range rep {
			if r.Bozo != 0 || len(r.Entries) != 7 {
				t.Errorf("%s: bozo=%d (%s), %d entries (want 7)", f, r.Bozo, r.Exc, len(r.Entries))
			}
		}
	})
	t.Run("jsonfeed-schema", func(t *testing.T) {
		if _, err := os.Stat("../publish/testdata/node_modules/ajv"); err != nil {
			if ci {
				t.Fatal("node packages missing in CI (make node-deps)")
			}
			t.Skip("run make node-deps")
		}
		out, err := exec.Command("node", "../publish/testdata/validate_jsonfeed.mjs", filepath.Join(dir, "feed.json")).CombinedOutput()
		if err != nil {
			t.Fatalf("JSON Feed schema: %v\n%s", err, out)
		}
	})
}
