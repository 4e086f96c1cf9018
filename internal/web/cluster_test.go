package web

import (
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// A story syndicated by two members shows once in the combined feed (from the earliest
// publisher, "also published by" the other), but a selection of only the later member
// still shows that member's own copy.
func TestSyndicatedStoryInSelections(t *testing.T) {
	fix := func(m string, h int) news.Item {
		it := storetest.Story(m, 1, 7)
		it.Country, it.Region, it.Source = testMembers[m].country, testMembers[m].region, testMembers[m].source
		it.Published = t0.Add(time.Duration(h) * time.Hour)
		it.Updated, it.FirstSeen = it.Published, it.Published
		return it
	}
	first, later := fix("ch", 1), fix("au", 5)
	f := newFeedFixture(t, []news.Item{first, later})
	count := func(path string) int {
		resp, body := f.get(t, path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		return strings.Count(string(body), "<entry")
	}
	if n := count("/feed.atom"); n != 1 {
		t.Errorf("combined feed shows the story %d times, want once", n)
	}
	_, body := f.get(t, "/feed.atom")
	if !strings.Contains(string(body), first.Link) {
		t.Errorf("combined feed does not show the earliest publisher's copy")
	}
	for _, path := range []string{"/feed.atom?member=au", "/members/au/feed.atom", "/feed.atom?country=AU", "/feed.atom?member=au,fr"} {
		if n := count(path); n != 1 {
			t.Errorf("%s shows %d entries, want au's own copy", path, n)
		}
	}
	if n := count("/feed.atom?member=au,ch"); n != 2 {
		t.Errorf("a selection of both members shows %d entries, want each member's copy", n)
	}
}
