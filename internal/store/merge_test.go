package store

import (
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

func TestMergeEnclosuresAndEditTime(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := news.Item{ID: "a", Key: "k", Title: "Episode 1", Published: t0, Updated: t0, FirstSeen: t0.Add(time.Hour)}
	in := old
	in.FirstSeen = t0.Add(48 * time.Hour) // the poll that sees the edit
	if _, changed := Merge(old, in); changed {
		t.Fatal("same item: changed")
	}

	// The source adds the episode's audio and dates the edit a day after publishing,
	// before the poll that sees it.
	in.Enclosures = []news.Enclosure{{URL: "https://pod.example.org/ep1.mp3", Type: "audio/mpeg"}}
	in.Updated = t0.Add(24 * time.Hour)
	m, changed := Merge(old, in)
	if !changed || len(m.Enclosures) != 1 {
		t.Fatalf("an added enclosure: changed %v, enclosures %v", changed, m.Enclosures)
	}
	if !m.Updated.Equal(in.FirstSeen) {
		t.Errorf("updated = %v, want the time the edit was seen (%v): feeds' Last-Modified follows it", m.Updated, in.FirstSeen)
	}
	if !m.FirstSeen.Equal(old.FirstSeen) || !m.Published.Equal(t0) {
		t.Errorf("first seen %v, published %v moved", m.FirstSeen, m.Published)
	}
}

// A page item untitled on its list took its article page's title when first stored: the
// list, polled again, still gives none, which must neither wipe the title nor count as
// an edit.
func TestMergeKeepsTitleWhenNoneGiven(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := news.Item{ID: "a", Key: "url:https://gs.example.org/a/3", Title: "Kafala evaluation mission", Link: "https://gs.example.org/a/3", Summary: "From the article.", Published: t0, Updated: t0, FirstSeen: t0}
	in := old
	in.Title, in.Summary, in.FirstSeen = "", "", t0.Add(time.Hour)
	m, changed := Merge(old, in)
	if changed || m.Title != old.Title {
		t.Errorf("merge of an untitled copy: changed %v, title %q; want unchanged, %q", changed, m.Title, old.Title)
	}
	in.Title = "Kafala evaluation mission in Morocco"
	if m, changed := Merge(old, in); !changed || m.Title != in.Title {
		t.Errorf("a new title: changed %v, title %q", changed, m.Title)
	}
}

// An item an earlier version stored under a Joomla article link with its menu entry
// (Itemid) is written again under this version's key and link on its next poll, so that
// it is found when the menu entry changes; nothing a reader sees moves.
func TestMergeRekeysEarlierLinks(t *testing.T) {
	const (
		link    = "https://iss.example.org/index.php?option=com_content&view=article&id=245:kafala&catid=12&Itemid=101"
		earlier = "https://iss.example.org/index.php?Itemid=101&catid=12&id=245%3Akafala&option=com_content&view=article"
		now     = "https://iss.example.org/index.php?id=245&option=com_content&view=article"
	)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := news.Item{ID: "a", Key: "url:" + earlier, Canonical: earlier, Link: link, Title: "Kafala", Published: t0, Updated: t0, FirstSeen: t0}
	in := old
	in.Key, in.Canonical, in.Updated, in.FirstSeen = "url:"+now, now, t0.Add(48*time.Hour), t0.Add(48*time.Hour)
	m, changed := Merge(old, in)
	if !changed {
		t.Fatal("an item keyed by an earlier form: not written again")
	}
	if m.Key != "url:"+now || m.Canonical != now || m.ID != "a" {
		t.Errorf("merged: id %s, key %q, canonical %q; want a, url:%s", m.ID, m.Key, m.Canonical, now)
	}
	if !m.Updated.Equal(t0) || !m.FirstSeen.Equal(t0) {
		t.Errorf("merged: updated %v, first seen %v; want both %v (nothing a reader sees changed)", m.Updated, m.FirstSeen, t0)
	}
	if _, changed := Merge(m, in); changed {
		t.Error("the item rewritten: changed again")
	}

	// A key of another form is kept (a GUID change, matched by link).
	in.Key = "guid:urn:iss:245"
	if m, _ := Merge(old, in); m.Key != old.Key {
		t.Errorf("key %q taken, want the stored %q", m.Key, old.Key)
	}
}
