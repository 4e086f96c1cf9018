package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/publish"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

const testBase = "https://news.example.org/"

const feedConfig = `network: {title: Test Network, url: "https://news.example.org/", language: en}
members:
  - {id: au, name: ISS Australia, country: AU, region: Asia-Pacific, languages: [en], homepage: "https://au.example.org/", sources: [{feed: "https://au.example.org/feed/"}]}
  - {id: fr, name: ISS France, country: FR, region: Europe, languages: [fr, en], homepage: "https://fr.example.org/", sources: [{page: "https://fr.example.org/actualites/"}]}
  - {id: ch, name: SSI Suisse, country: CH, region: Europe, languages: [fr, de, en], homepage: "https://ch.example.org/", sources: [{feed: "https://ch.example.org/rss.xml"}, {feed: "https://ch.example.org/de/rss.xml"}]}
  - {id: jp, name: ISS Japan, country: JP, region: Asia-Pacific, languages: [ja], homepage: "https://jp.example.org/"}
  - {id: us, name: ISS USA, country: US, region: Americas, languages: [en, es], homepage: "https://us.example.org/", sources: [{feed: "https://us.example.org/atom.xml"}]}
`

func feedCfg(t testing.TB, edits ...string) *config.Config {
	t.Helper()
	yml := feedConfig
	for i := 0; i+1 < len(edits); i += 2 {
		yml = strings.Replace(yml, edits[i], edits[i+1], 1)
	}
	cfg, err := config.Parse("test feeds.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testMembers are feedConfig's members' countries, regions and (first) sources.
var testMembers = map[string]struct{ country, region, source string }{
	"au": {"AU", "Asia-Pacific", "https://au.example.org/feed/"}, "fr": {"FR", "Europe", "https://fr.example.org/actualites/"},
	"ch": {"CH", "Europe", "https://ch.example.org/rss.xml"}, "jp": {"JP", "Asia-Pacific", "https://jp.example.org/"},
	"us": {"US", "Americas", "https://us.example.org/atom.xml"},
}

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// mk makes an item of member m published h hours after t0.
func mk(id, m, lang string, h int, title string, cats ...string) news.Item {
	p := t0.Add(time.Duration(h) * time.Hour)
	return news.Item{
		ID: id, Key: id, Member: m, Country: testMembers[m].country, Region: testMembers[m].region,
		Source: testMembers[m].source, Title: title, Link: "https://" + m + ".example.org/news/" + id,
		Summary: "Summary of " + title, Language: lang, Categories: cats, Published: p, Updated: p, FirstSeen: p,
	}
}

// filterItems: i12 is the newest, i01 the oldest; i05 and i06 share a time (ties go by ID).
func filterItems() []news.Item {
	return []news.Item{
		mk("i01", "au", "en", 1, "Annual report published", "Reports"),
		mk("i02", "fr", "fr", 2, "Médiation familiale internationale", "Médiation"),
		mk("i03", "fr", "en", 3, "International family mediation", "Mediation"),
		mk("i04", "ch", "de", 4, "Kinderschutz über Grenzen", "Adoption"),
		mk("i05", "ch", "fr", 5, "Protection de l’enfance", "adoption"),
		mk("i06", "jp", "ja", 5, "国際養子縁組の報告"),
		mk("i07", "us", "en", 7, "Kinship care across borders", "Kinship"),
		mk("i08", "us", "es", 8, "Cuidado familiar transfronterizo"),
		mk("i09", "au", "en", 9, "Training for caseworkers"),
		mk("i10", "fr", "fr", 10, "Journée d'étude à Genève"),
		mk("i11", "ch", "en", 11, "Annual conference in Geneva", "Events"),
		mk("i12", "jp", "ja", 12, "研修のお知らせ"),
	}
}

// countingReader counts the item reads, version reads and source state reads (states:
// one per state read, Sources and SourceStates counting every stored source) that reach
// the store.
type countingReader struct {
	Reader
	items, versions, states atomic.Int64
}

func (c *countingReader) Source(ctx context.Context, url string) (news.SourceState, error) {
	c.states.Add(1)
	return c.Reader.Source(ctx, url)
}

func (c *countingReader) Sources(ctx context.Context) ([]news.SourceState, error) {
	all, err := c.Reader.Sources(ctx)
	c.states.Add(int64(len(all)))
	return all, err
}

func (c *countingReader) SourceStates(ctx context.Context) ([]news.SourceState, error) {
	all, err := c.Reader.SourceStates(ctx)
	c.states.Add(int64(len(all)))
	return all, err
}

func (c *countingReader) Version(ctx context.Context) (uint64, error) {
	c.versions.Add(1)
	return c.Reader.Version(ctx)
}

func (c *countingReader) Items(ctx context.Context, q news.Query) ([]news.Item, error) {
	c.items.Add(1)
	return c.Reader.Items(ctx, q)
}

type feedFixture struct {
	srv   *httptest.Server
	store *boltstore.Store
	reads *countingReader
	web   *Server
	cfg   *config.Config
}

// newFeedFixture serves items from a bolt store; edits are pairs of (old, new) strings
// applied to feedConfig.
func newFeedFixture(t testing.TB, items []news.Item, edits ...string) *feedFixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if len(items) > 0 {
		if _, err := st.Upsert(context.Background(), items); err != nil {
			t.Fatal(err)
		}
	}
	cfg := feedCfg(t, edits...)
	cr := &countingReader{Reader: st}
	ws, err := New(Options{Store: cr, Config: func() *config.Config { return cfg }, Log: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws.Handler())
	t.Cleanup(srv.Close)
	return &feedFixture{srv: srv, store: st, reads: cr, web: ws, cfg: cfg}
}

// get fetches path (absolute URLs under testBase are mapped to the test server).
func (f *feedFixture) get(t testing.TB, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	path = strings.TrimPrefix(path, strings.TrimSuffix(testBase, "/"))
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Explicit, so the transport neither asks for gzip nor decompresses on its own.
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// parsedFeed is what a test reads back from any of the three formats.
type parsedFeed struct {
	IDs  []string
	Next string
	Hub  string
	Self string
	// Rels maps each feed-level link relation (Atom link, RSS atom:link) to its href.
	Rels map[string]string
}

type xmlLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

func parseFeed(t testing.TB, format string, b []byte) parsedFeed {
	t.Helper()
	out := parsedFeed{Rels: map[string]string{}}
	links := func(ls []xmlLink) {
		for _, l := range ls {
			if l.Rel != "alternate" {
				out.Rels[l.Rel] = l.Href
			}
			switch l.Rel {
			case "next":
				out.Next = l.Href
			case "hub":
				out.Hub = l.Href
			case "self":
				out.Self = l.Href
			}
		}
	}
	switch format {
	case "atom":
		var doc struct {
			Links   []xmlLink `xml:"link"`
			Entries []struct {
				ID string `xml:"id"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("atom: %v\n%s", err, b)
		}
		links(doc.Links)
		for _, e := range doc.Entries {
			out.IDs = append(out.IDs, strings.TrimPrefix(e.ID, "urn:networkfeed:"))
		}
	case "rss":
		var doc struct {
			Channel struct {
				Links []xmlLink `xml:"http://www.w3.org/2005/Atom link"`
				Items []struct {
					GUID string `xml:"guid"`
				} `xml:"item"`
			} `xml:"channel"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("rss: %v\n%s", err, b)
		}
		links(doc.Channel.Links)
		for _, it := range doc.Channel.Items {
			out.IDs = append(out.IDs, it.GUID)
		}
	case "json":
		var doc struct {
			FeedURL string `json:"feed_url"`
			NextURL string `json:"next_url"`
			Hubs    []struct {
				URL string `json:"url"`
			} `json:"hubs"`
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("json: %v\n%s", err, b)
		}
		out.Next, out.Self = doc.NextURL, doc.FeedURL
		if len(doc.Hubs) > 0 {
			out.Hub = doc.Hubs[0].URL
		}
		for _, it := range doc.Items {
			out.IDs = append(out.IDs, it.ID)
		}
	default:
		t.Fatalf("unknown format %q", format)
	}
	return out
}

func TestFeedFilters(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	all := []string{"i12", "i11", "i10", "i09", "i08", "i07", "i06", "i05", "i04", "i03", "i02", "i01"}
	tests := []struct {
		name    string
		path    string // without the format extension's feed name: "feed" or "members/x/feed"
		query   string
		want    []string
		status  int    // when not 200
		message string // part of the 400/404 message
	}{
		{name: "no filter", path: "feed", want: all},
		{name: "one member", path: "feed", query: "member=fr", want: []string{"i10", "i03", "i02"}},
		{name: "several members", path: "feed", query: "member=fr,jp", want: []string{"i12", "i10", "i06", "i03", "i02"}},
		{name: "members repeated", path: "feed", query: "member=fr&member=jp", want: []string{"i12", "i10", "i06", "i03", "i02"}},
		{name: "members with spaces and empties", path: "feed", query: "member=+jp+,,au", want: []string{"i12", "i09", "i06", "i01"}},
		{name: "country any case", path: "feed", query: "country=ch", want: []string{"i11", "i05", "i04"}},
		{name: "region any case", path: "feed", query: "region=EUROPE", want: []string{"i11", "i10", "i05", "i04", "i03", "i02"}},
		{name: "language", path: "feed", query: "lang=fr", want: []string{"i10", "i05", "i02"}},
		{name: "category any case", path: "feed", query: "category=ADOPTION", want: []string{"i05", "i04"}},
		{name: "category accents are exact", path: "feed", query: "category=M%C3%A9diation", want: []string{"i02"}},
		{name: "text without accents finds accented", path: "feed", query: "q=mediation", want: []string{"i03", "i02"}},
		{name: "text with accents and capitals", path: "feed", query: "q=M%C3%89DIATION+familiale", want: []string{"i02"}},
		{name: "text all words must match", path: "feed", query: "q=annual+geneva", want: []string{"i11"}},
		{name: "text in summary", path: "feed", query: "q=summary+kinship", want: []string{"i07"}},
		{name: "text in Japanese", path: "feed", query: "q=%E7%A0%94%E4%BF%AE", want: []string{"i12"}},
		{name: "text with a typed apostrophe finds a typographic one", path: "feed", query: "q=l'enfance", want: []string{"i05"}},
		{name: "text with a typographic apostrophe finds a typed one", path: "feed", query: "q=d%E2%80%99%C3%A9tude", want: []string{"i10"}},
		{name: "since a time", path: "feed", query: "since=2026-03-01T09:00:00Z", want: []string{"i12", "i11", "i10", "i09"}},
		{name: "since a date", path: "feed", query: "since=2026-03-02", want: nil},
		{name: "combined member and language", path: "feed", query: "member=ch,fr&lang=en", want: []string{"i11", "i03"}},
		{name: "combined region, language and text", path: "feed", query: "region=Europe&lang=fr&q=enfance", want: []string{"i05"}},
		{name: "limit", path: "feed", query: "limit=2", want: []string{"i12", "i11"}},
		{name: "member feed", path: "members/us/feed", want: []string{"i08", "i07"}},
		{name: "member feed with language", path: "members/us/feed", query: "lang=es", want: []string{"i08"}},
		{name: "unknown member", path: "feed", query: "member=fr,zz", status: 400, message: `unknown member "zz"`},
		{name: "unknown country", path: "feed", query: "country=ZZ", status: 400, message: `unknown country "ZZ"`},
		{name: "unknown region", path: "feed", query: "region=Antarctica", status: 400, message: `unknown region "Antarctica"`},
		{name: "unknown language", path: "feed", query: "lang=pt", status: 400, message: `unknown language "pt"`},
		{name: "bad since", path: "feed", query: "since=yesterday", status: 400, message: "since must be"},
		{name: "bad limit", path: "feed", query: "limit=0", status: 400, message: "limit must be"},
		{name: "bad cursor", path: "feed", query: "before=xyz", status: 400, message: "before must be"},
		{name: "unknown parameter", path: "feed", query: "colour=red", status: 400, message: `unknown parameter "colour"`},
		{name: "text too long", path: "feed", query: "q=" + strings.Repeat("a", 201), status: 400, message: "longer than 200"},
		{name: "category too long", path: "feed", query: "category=" + strings.Repeat("a", 201), status: 400, message: "longer than 200"},
		{name: "unknown member path", path: "members/zz/feed", status: 404, message: `member "zz"`},
	}
	for _, tc := range tests {
		for _, format := range []string{"rss", "atom", "json"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				path := "/" + tc.path + "." + format
				if tc.query != "" {
					path += "?" + tc.query
				}
				res, body := f.get(t, path)
				if tc.status != 0 {
					if res.StatusCode != tc.status || !strings.Contains(string(body), tc.message) {
						t.Fatalf("GET %s: %d %q, want %d with %q", path, res.StatusCode, body, tc.status, tc.message)
					}
					return
				}
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
				}
				if ct := res.Header.Get("Content-Type"); ct != publish.ContentType(format) {
					t.Errorf("Content-Type %q, want %q", ct, publish.ContentType(format))
				}
				got := parseFeed(t, format, body)
				if !slices.Equal(got.IDs, tc.want) {
					t.Errorf("GET %s: items %v, want %v", path, got.IDs, tc.want)
				}
			})
		}
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// pagingItems are n items of two members; items come in pairs sharing a time, so that
// page boundaries fall between items of equal time (ties go by ID).
func pagingItems(n, offset int) []news.Item {
	out := make([]news.Item, 0, n)
	for i := range n {
		m := []string{"au", "us"}[i%2]
		out = append(out, mk(fmt.Sprintf("p%04d", offset+i), m, "en", (offset+i)/2, fmt.Sprintf("Item %d", offset+i)))
	}
	return out
}

// TestFeedPagingStableUnderInserts walks every page of a feed, by its next links and
// (Atom, RSS) by its prev-archive links, while newer items arrive both between pages and
// concurrently: every item present at the start is seen exactly once, in order.
func TestFeedPagingStableUnderInserts(t *testing.T) {
	const n, limit = 37, 5
	for _, format := range []string{"rss", "atom", "json"} {
		for _, query := range []string{"", "&member=us", "&lang=en"} {
			follows := []string{"next", "prev-archive"}
			if format == "json" {
				follows = follows[:1] // JSON Feed has next_url only
			}
			for _, follow := range follows {
				t.Run(format+query+"/"+follow, func(t *testing.T) {
					testPaging(t, format, query, follow, n, limit)
				})
			}
		}
	}
}

func testPaging(t *testing.T, format, query, follow string, n, limit int) {
	f := newFeedFixture(t, pagingItems(n, 0))
	want, _ := f.store.Items(context.Background(), news.Query{Limit: n})
	if query == "&member=us" {
		want = slices.DeleteFunc(want, func(it news.Item) bool { return it.Member != "us" })
	}
	start := "/feed." + format + "?limit=" + itoa(limit) + query
	subscription := testBase + "feed." + format + "?" + canonicalQuery(mustParseQuery(t, start))
	var got []string
	inserted := n
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	next := start
	for pages := 0; next != ""; pages++ {
		if pages > n {
			t.Fatalf("more than %d pages: %s links loop", n, follow)
		}
		res, body := f.get(t, next)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, res.StatusCode, body)
		}
		p := parseFeed(t, format, body)
		if len(p.IDs) > limit {
			t.Fatalf("page %d has %d items, limit %d", pages, len(p.IDs), limit)
		}
		if p.Next != "" && !strings.HasPrefix(p.Next, testBase+"feed."+format+"?") {
			t.Fatalf("next link %q is not this feed in this format", p.Next)
		}
		if format != "json" {
			// RFC 5005: the older page is also the previous archive; every page names
			// the subscription document as first, and the pages behind it as current.
			if p.Rels["prev-archive"] != p.Next {
				t.Errorf("page %d: prev-archive %q, next %q: want the same page", pages, p.Rels["prev-archive"], p.Next)
			}
			if p.Rels["first"] != subscription {
				t.Errorf("page %d: first %q, want %q", pages, p.Rels["first"], subscription)
			}
			if wantCurrent := map[bool]string{true: "", false: subscription}[pages == 0]; p.Rels["current"] != wantCurrent {
				t.Errorf("page %d: current %q, want %q", pages, p.Rels["current"], wantCurrent)
			}
			for _, rel := range []string{"previous", "next-archive"} {
				if href, ok := p.Rels[rel]; ok {
					t.Errorf("page %d: %s link %q, but no page of newer items is served", pages, rel, href)
				}
			}
		}
		got = append(got, p.IDs...)
		next = p.Next
		if follow != "next" {
			next = p.Rels[follow]
		}
		if pages == 0 {
			// From now on, newer items also arrive while pages are being read.
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
					if _, err := f.store.Upsert(context.Background(), pagingItems(1, 3000+k)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		// Newer items arrive between pages (new time, new ID): they must not shift what
		// the following pages hold.
		if _, err := f.store.Upsert(context.Background(), pagingItems(3, 1000+inserted)); err != nil {
			t.Fatal(err)
		}
		inserted += 3
	}
	var wantIDs []string
	for _, it := range want {
		wantIDs = append(wantIDs, it.ID)
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("pages hold\n%v\nwant\n%v", got, wantIDs)
	}
}

func mustParseQuery(t *testing.T, addr string) url.Values {
	t.Helper()
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// A selection that fills its last page exactly has no link to an empty page after it:
// ten items in pages of five are two pages (a reader following next fetched a third,
// empty one; the river had the same off-by-one).
func TestFeedPagingEndsWithTheLastItem(t *testing.T) {
	f := newFeedFixture(t, pagingItems(10, 0))
	for _, format := range []string{"rss", "atom", "json"} {
		next, pages, items := "/feed."+format+"?limit=5", 0, 0
		for next != "" {
			if pages++; pages > 3 {
				t.Fatalf("%s: more than 3 pages", format)
			}
			res, body := f.get(t, strings.TrimPrefix(next, strings.TrimSuffix(testBase, "/")))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", next, res.StatusCode, body)
			}
			p := parseFeed(t, format, body)
			items += len(p.IDs)
			next = p.Next
		}
		if pages != 2 || items != 10 {
			t.Errorf("%s: %d items in %d pages, want 10 in 2", format, items, pages)
		}
	}
}
