package poll

import (
	"context"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// TestFeedDayDatesInSourceZone: a feed that dates its items by a day alone ("Sun, 01 Mar 2026",
// a JSON Feed's "2026-03-01") gives that day, kept as a day, in the member's zone, as a page's
// dates are. Taken as midnight UTC, the web view (which shows a day in the source's zone) showed
// an American member's 1 March post as 28 February; and polling it again changes nothing.
func TestFeedDayDatesInSourceZone(t *testing.T) {
	site, _ := changingFeed(t, rss(
		"a|Day only|https://m.example.org/a|Sun, 01 Mar 2026",
		"b|Full date|https://m.example.org/b|Sun, 01 Mar 2026 15:00:00 GMT",
	))
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	ref.Now = func() time.Time { return time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC) }
	j := feedJob("m", site+"/feed")
	j.Member.Country = "US"
	ny := j.Member.Location(j.Source)
	if ny == time.UTC {
		t.Fatal("no zone for US")
	}
	ctx := context.Background()
	for poll := 1; poll <= 2; poll++ {
		res := ref.Refresh(ctx, j)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if poll == 2 && res.New+res.Updated != 0 {
			t.Errorf("second poll: %d new, %d updated, want none", res.New, res.Updated)
		}
	}
	for _, it := range storedItems(t, db, "m") {
		switch it.Title {
		case "Day only":
			if it.Precision != news.PrecisionDay || it.Published.In(ny).Format(time.DateTime) != "2026-03-01 00:00:00" {
				t.Errorf("day-only item: %s (%q) in New York, want 1 March, precision day", it.Published.In(ny), it.Precision)
			}
		case "Full date":
			if it.Precision != news.PrecisionExact || !it.Published.Equal(time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)) {
				t.Errorf("dated item: %s (%q)", it.Published, it.Precision)
			}
		}
	}
}

// TestLocalizedFeedDates: a hand-made or localized feed writes its dates as gofeed does not
// read them (German day and month names, a two-digit year, a numeric date): read in the
// member's languages, as a page's dates are, they date the items, which were undated.
func TestLocalizedFeedDates(t *testing.T) {
	site, _ := changingFeed(t, rss(
		"a|Mitgliederversammlung|https://m.example.org/a|Mo, 02 Mär 2026 10:00:00 +0100",
		"b|Jahresbericht|https://m.example.org/b|27 Feb 26 09:30:00 +0000",
		"c|Fachtagung|https://m.example.org/c|20.02.2026",
		"d|Ohne Datum|https://m.example.org/d|",
	))
	db := openBolt(t)
	ref := newTestRefresher(t, db, testConfig(t, ""), nil)
	ref.Now = func() time.Time { return time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC) }
	j := feedJob("m", site+"/feed")
	j.Member.Languages, j.Member.Country = []string{"de"}, "DE"
	berlin := j.Member.Location(j.Source)
	if res := ref.Refresh(context.Background(), j); res.Err != nil || res.New != 4 {
		t.Fatalf("poll: %+v", res)
	}
	want := map[string]struct {
		at   time.Time
		prec news.Precision
	}{
		"Mitgliederversammlung": {time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), news.PrecisionExact},
		"Jahresbericht":         {time.Date(2026, 2, 27, 9, 30, 0, 0, time.UTC), news.PrecisionExact},
		"Fachtagung":            {time.Date(2026, 2, 20, 0, 0, 0, 0, berlin), news.PrecisionDay},
	}
	for _, it := range storedItems(t, db, "m") {
		w, ok := want[it.Title]
		if !ok {
			if it.Dated() {
				t.Errorf("%q: dated %s, want undated", it.Title, it.Published)
			}
			continue
		}
		if !it.Published.Equal(w.at) || it.Precision != w.prec {
			t.Errorf("%q: %s (%q), want %s (%q)", it.Title, it.Published, it.Precision, w.at, w.prec)
		}
	}
}
