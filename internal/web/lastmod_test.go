package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// TestLastModifiedMovesWithNewItems: a member polled late brings an item dated before
// the feed's newest one. The feed changed, so a reader that revalidates with the
// Last-Modified it was given (If-Modified-Since alone, as many do) must get it, not a 304.
func TestLastModifiedMovesWithNewItems(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	for _, format := range []string{"rss", "atom", "json"} {
		res, _ := f.get(t, "/feed."+format)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", format, res.StatusCode)
		}
		lastMod := res.Header.Get("Last-Modified")
		lm, err := http.ParseTime(lastMod)
		if err != nil {
			t.Fatalf("%s: Last-Modified %q: %v", format, lastMod, err)
		}

		// Dated an hour before the newest item, first seen (stored) just now.
		late := mk("late-"+format, "au", "en", 11, "Late news from a slow member")
		late.FirstSeen = lm.Add(time.Hour)
		if _, err := f.store.Upsert(context.Background(), []news.Item{late}); err != nil {
			t.Fatal(err)
		}
		f.web.StoreChanged()

		res, body := f.get(t, "/feed."+format, "If-Modified-Since", lastMod)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), late.ID) {
			t.Errorf("%s: If-Modified-Since %s after a new item: HTTP %d, want 200 with the item", format, lastMod, res.StatusCode)
		}
		if got := res.Header.Get("Last-Modified"); got == lastMod {
			t.Errorf("%s: Last-Modified still %s after a new item", format, got)
		}
	}
}
