package poll

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
)

// FuzzRefresh serves arbitrary bytes, with an arbitrary content type, as a feed, as a
// page with selectors and as a homepage, and runs one whole refresh into a bolt store:
// it must not panic, must record the source's state, and whatever it stores must be
// valid UTF-8 with an identity. Seeds: f.Add below and testdata/fuzz/FuzzRefresh.
func FuzzRefresh(f *testing.F) {
	f.Add(uint8(0), "application/rss+xml", []byte(goodFeed("seed")))
	f.Add(uint8(0), "application/atom+xml", []byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>urn:1</id><title>One</title><link href="/1"/><updated>2026-03-01T10:00:00Z</updated></entry></feed>`))
	f.Add(uint8(0), "application/feed+json", []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","title":"One","url":"https://m.example.org/1","date_published":"2026-03-01T10:00:00Z"}]}`))
	f.Add(uint8(1), "text/html; charset=utf-8", []byte(`<html><body><div class="item"><h2><a href="/n/1">News one</a></h2><time datetime="2026-03-01">1 March 2026</time><p>Words.</p></div></body></html>`))
	f.Add(uint8(2), "text/html", []byte(`<html><head><title>Home</title></head><body><ul class="news"><li><a href="/a">Article one about things</a> <span>2 March 2026</span></li><li><a href="/b">Article two about more</a> <span>1 March 2026</span></li><li><a href="/c">Article three</a> <span>28 February 2026</span></li></ul></body></html>`))
	f.Add(uint8(0), "text/xml; charset=iso-8859-1", []byte("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\"><channel><item><title>Caf\xe9</title><guid>1</guid></item></channel></rss>"))

	var body atomic.Pointer[[]byte]
	var ctype atomic.Pointer[string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", *ctype.Load())
		w.Write(*body.Load())
	}))
	defer srv.Close()
	db := openBolt(f)
	ref := newTestRefresher(f, db, testConfig(f, ""), nil)
	var n atomic.Int64

	f.Fuzz(func(t *testing.T, kind uint8, contentType string, b []byte) {
		body.Store(&b)
		ctype.Store(&contentType)
		id := fmt.Sprintf("f%d", n.Add(1))
		u := fmt.Sprintf("%s/%s/src", srv.URL, id)
		var j Job
		switch kind % 3 {
		case 0:
			j = feedJob(id, u)
		case 1:
			j = pageJob(id, u, &config.Selectors{Item: "div.item", Title: "h2", Link: "h2 a", Date: "time", Summary: "p"})
		default:
			j = Job{Member: &config.Member{ID: id, Name: id, Languages: []string{"en"}}, Source: config.Source{Homepage: u}}
		}
		res := ref.Refresh(context.Background(), j)
		st, ok := sourceState(t, db, u)
		if !ok || st.Polls != 1 {
			t.Fatalf("state not recorded: %+v (err %v)", st, res.Err)
		}
		if (res.Err == nil) != (st.Health == news.HealthOK) {
			t.Fatalf("err %v but health %q", res.Err, st.Health)
		}
		if res.Err != nil && (st.Error == "" || st.ErrorKind == "") {
			t.Fatalf("failure recorded without words: %+v", st)
		}
		items := storedItems(t, db, id)
		if res.Err != nil && len(items) != 0 {
			t.Fatalf("failed poll stored %d items", len(items))
		}
		if res.Err == nil && len(items) != res.New {
			t.Fatalf("stored %d items, result says %d new", len(items), res.New)
		}
		for _, it := range items {
			if it.ID == "" || it.Key == "" || it.Member != id || it.Source != u {
				t.Fatalf("item without identity: %+v", it)
			}
			if !utf8.ValidString(it.Title) || !utf8.ValidString(it.Summary) || !utf8.ValidString(it.Content) || !utf8.ValidString(it.Link) {
				t.Fatalf("invalid UTF-8 stored: %q", it.Title)
			}
			if it.Published.After(st.LastPoll.Add(1e9)) {
				t.Fatalf("item dated after the poll: %s", it.Published)
			}
		}
	})
}
