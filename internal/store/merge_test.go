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
