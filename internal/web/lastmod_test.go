package web

import (
	"context"
	"fmt"
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

// TestLastModifiedMovesWithAnEdit: a member edits an item and its feed dates the edit
// (Atom <updated>) before the newest item the network first saw since. The feed changed
// (new title), so a reader revalidating with If-Modified-Since alone must get it.
func TestLastModifiedMovesWithAnEdit(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	for i, format := range []string{"rss", "atom", "json"} {
		res, _ := f.get(t, "/feed."+format)
		lastMod := res.Header.Get("Last-Modified")
		lm, err := http.ParseTime(lastMod)
		if err != nil {
			t.Fatalf("%s: Last-Modified %q: %v", format, lastMod, err)
		}

		// i09's source now gives it a new title and an edit time an hour before the
		// newest item; the poll that saw the edit ran after Last-Modified.
		ed := mk("i09", "au", "en", 9, fmt.Sprintf("Training for caseworkers (edit %d)", i))
		ed.Updated = t0.Add(11 * time.Hour)
		ed.FirstSeen = lm.Add(time.Hour)
		if r, err := f.store.Upsert(context.Background(), []news.Item{ed}); err != nil || r.Updated != 1 {
			t.Fatalf("%s: edit upsert = %+v, %v", format, r, err)
		}
		f.web.StoreChanged()

		res, body := f.get(t, "/feed."+format, "If-Modified-Since", lastMod)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), ed.Title) {
			t.Errorf("%s: If-Modified-Since %s after an edit: HTTP %d, want 200 with the edited title", format, lastMod, res.StatusCode)
		}
		if got := res.Header.Get("Last-Modified"); got == lastMod {
			t.Errorf("%s: Last-Modified still %s after an edit", format, got)
		}
	}
}
