package poll

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
)

// A member's news page on a Java server (Tomcat, Liferay) that writes the servlet's
// session ID into every link of a page served to a client without its session cookie
// (";jsessionid=…"): the poller keeps no cookies, so every poll brings each link with
// another session ID. Its items keep their IDs, and each is stored once.
func TestSessionIDInLinksKeepsItems(t *testing.T) {
	var session atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := fmt.Sprintf("%032X", 0xA11CE+session.Add(1))
		var b strings.Builder
		b.WriteString(`<!doctype html><html lang="en"><body><div class="news">`)
		for i, title := range []string{"ISS PAC meets in Athens", "Kafala evaluation mission in Morocco"} {
			fmt.Fprintf(&b, `<div class="entry"><h2><a href="/web/guest/news/%d;jsessionid=%s">%s</a></h2>`+
				`<time datetime="2026-03-0%dT10:00:00Z">%d March 2026</time><p>Some words about it.</p></div>`,
				i+1, sid, title, i+1, i+1)
		}
		b.WriteString(`</div></body></html>`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Set-Cookie", "JSESSIONID="+sid+"; Path=/; HttpOnly")
		w.Write([]byte(b.String()))
	}))
	defer srv.Close()
	st := openBolt(t)
	r := newTestRefresher(t, st, testConfig(t, ""), nil)
	j := pageJob("m", srv.URL+"/web/guest/news", &config.Selectors{Item: "div.entry", Title: "h2", Link: "h2 a", Date: "time", Summary: "p"})
	first := r.Refresh(context.Background(), j)
	if first.Err != nil || first.New != 2 {
		t.Fatalf("first poll: %+v", first)
	}
	ids := map[string]bool{}
	for _, it := range storedItems(t, st, "m") {
		ids[it.ID] = true
	}
	second := r.Refresh(context.Background(), j)
	if second.Err != nil || second.New != 0 {
		t.Errorf("second poll, the links with another session ID: %d new items, want 0 (err %v)", second.New, second.Err)
	}
	got := storedItems(t, st, "m")
	if len(got) != 2 {
		t.Errorf("stored %d items after two polls, want 2", len(got))
	}
	for _, it := range got {
		if !ids[it.ID] {
			t.Errorf("item %q (%s) has a new ID %s", it.Title, it.Link, it.ID)
		}
	}
}
