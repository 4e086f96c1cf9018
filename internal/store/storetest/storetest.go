// Package storetest is the conformance suite every store backend must pass.
// A backend's test calls Run with a function that returns a fresh, empty store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// Opener returns a new, empty store; the suite closes it.
type Opener func(t *testing.T) store.Store

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Item builds a test item of member m numbered n, published n hours after base.
func Item(m string, n int) news.Item {
	return news.Item{
		ID: fmt.Sprintf("%s-%03d", m, n), Key: fmt.Sprintf("guid:%s/%d", m, n),
		Member: m, Country: map[string]string{"gs": "CH", "au": "AU", "fr": "FR"}[m],
		Region: map[string]string{"gs": "Europe", "au": "Asia-Pacific", "fr": "Europe"}[m],
		Source: "https://" + m + ".example.org/feed", Title: fmt.Sprintf("Story %d of %s", n, m),
		Link: fmt.Sprintf("https://%s.example.org/news/%d", m, n), Summary: "Summary " + m,
		Language:  map[string]string{"gs": "en", "au": "en", "fr": "fr"}[m],
		Published: base.Add(time.Duration(n) * time.Hour), Updated: base.Add(time.Duration(n) * time.Hour),
		FirstSeen: base.Add(1000 * time.Hour), Categories: []string{"news"},
	}
}

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []namedTest{
		{"UpsertNewAndUnchanged", testUpsertNewAndUnchanged},
		{"EditKeepsIDAndPublished", testEditKeepsIDAndPublished},
		{"NewestFirstAndPaging", testNewestFirstAndPaging},
		{"Filters", testFilters},
		{"Listed", testListed},
		{"ItemsByKey", testItemsByKey},
		{"Sources", testSources},
		{"TrimAndTombstones", testTrimAndTombstones},
		{"TombstonesExpire", testTombstonesExpire},
		{"Forget", testForget},
		{"CarryTombstones", testCarryTombstones},
		{"Version", testVersion},
		{"Leases", testLeases},
		{"ConcurrentSameItem", testConcurrentSameItem},
		{"ItemNotFound", testItemNotFound},
		{"ItemsCostWhatTheyFind", testItemsCostWhatTheyFind},
	}
	tests = append(tests, clusterTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustUpsert(t *testing.T, s store.Store, items ...news.Item) news.UpsertResult {
	t.Helper()
	r, err := s.Upsert(ctx(t), items)
	if err != nil {
		t.Fatalf("upsert: %v", err)
	}
	return r
}

func ids(items []news.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func testUpsertNewAndUnchanged(t *testing.T, s store.Store) {
	r := mustUpsert(t, s, Item("gs", 1), Item("gs", 2))
	if r.New != 2 || r.Updated != 0 || len(r.NewIDs) != 2 {
		t.Fatalf("first upsert = %+v, want 2 new", r)
	}
	again := Item("gs", 1)
	again.FirstSeen = base.Add(2000 * time.Hour)
	r = mustUpsert(t, s, again, Item("gs", 2))
	if r.New != 0 || r.Updated != 0 || r.Unchanged != 2 {
		t.Fatalf("second upsert = %+v, want 2 unchanged", r)
	}
	got, err := s.Item(ctx(t), "gs-001")
	if err != nil {
		t.Fatal(err)
	}
	if !got.FirstSeen.Equal(base.Add(1000 * time.Hour)) {
		t.Errorf("FirstSeen moved to %v", got.FirstSeen)
	}
	all, _ := s.Items(ctx(t), news.Query{Limit: 10})
	if len(all) != 2 {
		t.Errorf("stored %d items, want 2", len(all))
	}
}

func testEditKeepsIDAndPublished(t *testing.T, s store.Store) {
	mustUpsert(t, s, Item("gs", 1), Item("gs", 2))
	ed := Item("gs", 1)
	ed.Title = "Story 1, corrected"
	ed.Published = base.Add(1 * time.Hour)
	ed.FirstSeen = base.Add(3000 * time.Hour)
	ed.Updated = base.Add(3000 * time.Hour)
	r := mustUpsert(t, s, ed)
	if r.Updated != 1 || r.New != 0 {
		t.Fatalf("edit upsert = %+v, want 1 updated", r)
	}
	got, err := s.Item(ctx(t), "gs-001")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Story 1, corrected" || !got.Published.Equal(base.Add(time.Hour)) || !got.FirstSeen.Equal(base.Add(1000*time.Hour)) {
		t.Errorf("after edit: title %q published %v first seen %v", got.Title, got.Published, got.FirstSeen)
	}
	if !got.Updated.Equal(base.Add(3000 * time.Hour)) {
		t.Errorf("updated = %v, want moved", got.Updated)
	}
	all, _ := s.Items(ctx(t), news.Query{Limit: 10})
	if fmt.Sprint(ids(all)) != "[gs-002 gs-001]" {
		t.Errorf("order after edit = %v, edited old post must not jump", ids(all))
	}
	// An undated copy keeps the stored date.
	und := Item("gs", 2)
	und.Precision = news.PrecisionNone
	und.Published = base.Add(5000 * time.Hour)
	mustUpsert(t, s, und)
	got, _ = s.Item(ctx(t), "gs-002")
	if !got.Published.Equal(base.Add(2 * time.Hour)) {
		t.Errorf("undated copy moved published to %v", got.Published)
	}
}

func testNewestFirstAndPaging(t *testing.T, s store.Store) {
	var items []news.Item
	for i := 1; i <= 30; i++ {
		items = append(items, Item("gs", i))
	}
	same := Item("au", 30) // same time as gs-030: tie broken by ID descending
	items = append(items, same)
	mustUpsert(t, s, items...)
	page1, err := s.Items(ctx(t), news.Query{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(page1)) != "[gs-030 au-030 gs-029 gs-028 gs-027]" {
		t.Fatalf("page 1 = %v", ids(page1))
	}
	last := page1[len(page1)-1]
	// A concurrent insert of a newer item does not shift the next page.
	mustUpsert(t, s, Item("gs", 31))
	page2, err := s.Items(ctx(t), news.Query{Limit: 5, Before: news.Cursor{Time: last.SortTime(), ID: last.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(page2)) != "[gs-026 gs-025 gs-024 gs-023 gs-022]" {
		t.Fatalf("page 2 = %v", ids(page2))
	}
	tail, _ := s.Items(ctx(t), news.Query{Limit: 100, Before: news.Cursor{Time: Item("gs", 3).Published, ID: "gs-003"}})
	if fmt.Sprint(ids(tail)) != "[gs-002 gs-001]" {
		t.Fatalf("tail = %v", ids(tail))
	}
}

func testFilters(t *testing.T, s store.Store) {
	for i := 1; i <= 4; i++ {
		mustUpsert(t, s, Item("gs", i), Item("au", i+10), Item("fr", i+20))
	}
	cases := []struct {
		name string
		q    news.Query
		want string
	}{
		{"member", news.Query{Members: []string{"au"}, Limit: 2}, "[au-014 au-013]"},
		{"members", news.Query{Members: []string{"gs", "au"}, Limit: 3}, "[au-014 au-013 au-012]"},
		{"country", news.Query{Country: "FR", Limit: 2}, "[fr-024 fr-023]"},
		{"region", news.Query{Region: "Europe", Limit: 5}, "[fr-024 fr-023 fr-022 fr-021 gs-004]"},
		{"lang", news.Query{Language: "en", Limit: 2}, "[au-014 au-013]"},
		{"member+lang none", news.Query{Members: []string{"fr"}, Language: "en", Limit: 2}, "[]"},
		{"since", news.Query{Since: base.Add(23 * time.Hour), Limit: 10}, "[fr-024 fr-023]"},
		{"category", news.Query{Category: "news", Limit: 1}, "[fr-024]"},
		{"category none", news.Query{Category: "sport", Limit: 1}, "[]"},
		{"unknown member", news.Query{Members: []string{"zz"}, Limit: 1}, "[]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Items(ctx(t), c.q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != c.want {
				t.Errorf("got %v, want %s", ids(got), c.want)
			}
		})
	}
}

// Items of members no longer in the config (Listed says no) are left out along the
// timeline, not after the page is cut: every page is full while listed items remain,
// and a story whose shown copy is left out is shown from the next listed copy, while
// one whose shown copy is listed is not shown again from another.
func testListed(t *testing.T, s store.Store) {
	page := "https://iss-ssi.example.org/news/kafala"
	for i := 1; i <= 6; i++ {
		mustUpsert(t, s, Item("gs", i), Item("au", i+10), Item("fr", i+20))
	}
	// One story told by the GS first, then by fr: fr-027 is its hidden copy. Another told
	// by au first, then by fr: fr-028 is its hidden copy.
	story, copy := Item("gs", 7), Item("fr", 27)
	story.Canonical, copy.Canonical = page, page
	mustUpsert(t, s, story, copy)
	wantCluster(t, s, "fr-027", "gs-007")
	auStory, auCopy := Item("au", 8), Item("fr", 28)
	auStory.Canonical, auCopy.Canonical = page+"-2", page+"-2"
	mustUpsert(t, s, auStory, auCopy)
	wantCluster(t, s, "fr-028", "au-008")
	// The GS left the network.
	listed := func(member string) bool { return member != "gs" }
	cases := []struct {
		name string
		q    news.Query
		want string
	}{
		{"all", news.Query{Limit: 4}, "[fr-028 fr-027 fr-026 fr-025]"},
		{"page 2", news.Query{Limit: 4, Before: news.Cursor{Time: Item("fr", 25).Published, ID: "fr-025"}}, "[fr-024 fr-023 fr-022 fr-021]"},
		{"page 3", news.Query{Limit: 4, Before: news.Cursor{Time: Item("fr", 21).Published, ID: "fr-021"}}, "[au-016 au-015 au-014 au-013]"},
		{"member", news.Query{Members: []string{"au", "gs"}, Limit: 3}, "[au-016 au-015 au-014]"},
		{"removed member", news.Query{Members: []string{"gs"}, Limit: 3}, "[]"},
		{"region", news.Query{Region: "Europe", Limit: 3}, "[fr-028 fr-027 fr-026]"},
		// fr-027 stands in for the GS's story; fr-028 not for au's, which is shown as au-008.
		{"clustered: the next copy stands in", news.Query{Clustered: true, Limit: 2}, "[fr-027 fr-026]"},
		{"clustered: a listed shown copy stays the story", news.Query{Clustered: true, Before: news.Cursor{Time: Item("au", 11).Published, ID: "au-011"}, Limit: 1}, "[au-008]"},
		{"words", news.Query{Text: "au", Limit: 10}, "[au-016 au-015 au-014 au-013 au-012 au-011 au-008]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Listed = listed
			got, err := s.Items(ctx(t), c.q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != c.want {
				t.Errorf("got %v, want %s", ids(got), c.want)
			}
		})
	}
	// Everything listed: the GS's copy is the story, fr's are not shown.
	all := func(string) bool { return true }
	wantIDs(t, "clustered, everything listed", query(t, s, news.Query{Clustered: true, Limit: 2, Listed: all}), "[fr-026 fr-025]")
	wantIDs(t, "clustered, without Listed", query(t, s, news.Query{Clustered: true, Limit: 2}), "[fr-026 fr-025]")
}

func testItemsByKey(t *testing.T, s store.Store) {
	mustUpsert(t, s, Item("gs", 1), Item("gs", 2), Item("au", 1))
	got, err := s.ItemsByKey(ctx(t), "gs", []string{"guid:gs/2", "guid:gs/9", "https://gs.example.org/news/1", "guid:au/1"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range got {
		seen[it.ID] = true
	}
	if len(got) != 2 || !seen["gs-001"] || !seen["gs-002"] {
		t.Errorf("ItemsByKey = %v, want gs-001 (by link) and gs-002 (by key)", ids(got))
	}
}

func testSources(t *testing.T, s store.Store) {
	if _, err := s.Source(ctx(t), "https://x/feed"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing source err = %v, want ErrNotFound", err)
	}
	st := news.SourceState{URL: "https://x/feed", Member: "gs", Kind: "feed", Health: news.HealthFailing,
		HTTPCode: 500, Error: "server error", ETag: `"abc"`, LastPoll: base, Items: 3,
		// Backoff and rate-limit state, which the scheduler reads again after a restart.
		Failures: 2, NextPoll: base.Add(2 * time.Hour), RetryAfter: base.Add(time.Hour),
		History: []news.PollRecord{{At: base, Duration: time.Second, HTTPCode: 500, Error: "server error"}},
		// A page's selector that matched none of its items, kept from its last success.
		Warning: "date selector `.date` matched none of 12 items"}
	if err := s.PutSource(ctx(t), st); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSource(ctx(t), news.SourceState{URL: "https://y/feed", Member: "au"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Source(ctx(t), "https://x/feed")
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag != `"abc"` || got.HTTPCode != 500 || !got.LastPoll.Equal(base) || len(got.History) != 1 || got.History[0].Duration != time.Second {
		t.Errorf("source round trip = %+v", got)
	}
	if got.Warning != st.Warning {
		t.Errorf("warning round trip: %q, want %q", got.Warning, st.Warning)
	}
	if got.Failures != 2 || !got.NextPoll.Equal(st.NextPoll) || !got.RetryAfter.Equal(st.RetryAfter) {
		t.Errorf("backoff state round trip: failures %d, next poll %s, Retry-After %s; want %d, %s, %s",
			got.Failures, got.NextPoll, got.RetryAfter, st.Failures, st.NextPoll, st.RetryAfter)
	}
	all, err := s.Sources(ctx(t))
	if err != nil || len(all) != 2 {
		t.Fatalf("Sources = %d, %v; want 2", len(all), err)
	}

	// A whole history comes back from Source and Sources; SourceStates gives the
	// newest poll only, with the rest of the state.
	for i := range news.MaxHistory {
		st.History = append(st.History, news.PollRecord{At: base.Add(-time.Duration(i+1) * time.Hour), Duration: time.Duration(i) * time.Millisecond, HTTPCode: 200})
	}
	if err := s.PutSource(ctx(t), st); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Source(ctx(t), st.URL); err != nil || len(got.History) != len(st.History) || !got.History[len(got.History)-1].At.Equal(st.History[len(st.History)-1].At) {
		t.Errorf("Source after a long history: %d polls, %v; want %d", len(got.History), err, len(st.History))
	}
	all, err = s.Sources(ctx(t))
	if err != nil || len(all) != 2 {
		t.Fatalf("Sources = %d, %v; want 2", len(all), err)
	}
	if x := all[slices.IndexFunc(all, func(a news.SourceState) bool { return a.URL == st.URL })]; len(x.History) != len(st.History) {
		t.Errorf("Sources: %d polls of history, want %d", len(x.History), len(st.History))
	}
	brief, err := s.SourceStates(ctx(t))
	if err != nil || len(brief) != 2 {
		t.Fatalf("SourceStates = %d, %v; want 2", len(brief), err)
	}
	defer func() {
		// A history written shorter again (one poll: all in the state) is what comes back.
		short := st
		short.History = []news.PollRecord{{At: base.Add(time.Hour), HTTPCode: 200}}
		if err := s.PutSource(ctx(t), short); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Source(ctx(t), st.URL); err != nil || len(got.History) != 1 || !got.History[0].At.Equal(short.History[0].At) {
			t.Errorf("Source after a shorter history: %d polls, %v; want the 1 written", len(got.History), err)
		}
	}()
	for _, b := range brief {
		if b.URL != st.URL {
			if len(b.History) != 0 {
				t.Errorf("SourceStates %s: %d polls of history, want none", b.URL, len(b.History))
			}
			continue
		}
		if len(b.History) != 1 || b.History[0].Duration != time.Second || b.Failures != 2 || !b.RetryAfter.Equal(st.RetryAfter) || !b.NextPoll.Equal(st.NextPoll) || b.Warning != st.Warning {
			t.Errorf("SourceStates %s = %+v, want its state with the newest poll only", b.URL, b)
		}
	}
}

// Forget removes a member's items of one source and the source's state, and leaves no
// tombstones: the member put back in the config starts afresh. Items another member
// stored from the same URL, and a state that is another member's, stay.
func testForget(t *testing.T, s store.Store) {
	src := Item("gs", 1).Source
	moved := Item("au", 9) // au's item from the same URL (the feed changed hands)
	moved.Source = src
	mustUpsert(t, s, Item("gs", 1), Item("gs", 2), Item("gs", 3), Item("au", 1), moved)
	// A story the GS told first, then fr: fr's copy is hidden while the GS's is stored.
	story, copy := Item("gs", 4), Item("fr", 24)
	story.Canonical, copy.Canonical = "https://iss-ssi.example.org/news/x", "https://iss-ssi.example.org/news/x"
	mustUpsert(t, s, story, copy)
	wantCluster(t, s, "fr-024", "gs-004")
	for _, st := range []news.SourceState{
		{URL: src, Member: "gs", History: []news.PollRecord{{At: base, New: 4}, {At: base.Add(-time.Hour)}}},
		{URL: Item("au", 1).Source, Member: "au"},
	} {
		if err := s.PutSource(ctx(t), st); err != nil {
			t.Fatal(err)
		}
	}
	v0, err := s.Version(ctx(t))
	if err != nil {
		t.Fatal(err)
	}

	n, err := s.Forget(ctx(t), "gs", src)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("Forget removed %d items, want 4", n)
	}
	wantIDs(t, "items left", query(t, s, news.Query{}), "[fr-024 au-009 au-001]")
	wantIDs(t, "clustered: fr's copy is the story now", query(t, s, news.Query{Clustered: true}), "[fr-024 au-009 au-001]")
	if got, err := s.ItemsByKey(ctx(t), "gs", []string{"guid:gs/1", "https://gs.example.org/news/2"}); err != nil || len(got) != 0 {
		t.Errorf("ItemsByKey after Forget = %v, %v; want none", ids(got), err)
	}
	if _, err := s.Source(ctx(t), src); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("forgotten source's state: err = %v, want ErrNotFound", err)
	}
	if sts, err := s.Sources(ctx(t)); err != nil || len(sts) != 1 || sts[0].Member != "au" {
		t.Errorf("Sources after Forget = %+v, %v; want au's only", sts, err)
	}
	if v1, err := s.Version(ctx(t)); err != nil || v1 == v0 {
		t.Errorf("version %d after Forget, was %d (err %v): caches would serve the items", v1, v0, err)
	}
	// No tombstones: the GS back in the config stores what its feed lists again.
	if r := mustUpsert(t, s, Item("gs", 1), Item("gs", 2)); r.New != 2 {
		t.Errorf("upsert after Forget = %+v, want both new", r)
	}
	// A state that is another member's stays, and so do its items.
	if n, err := s.Forget(ctx(t), "gs", Item("au", 1).Source); err != nil || n != 0 {
		t.Errorf("Forget of gs on au's source = %d, %v; want 0", n, err)
	}
	if _, err := s.Source(ctx(t), Item("au", 1).Source); err != nil {
		t.Errorf("au's state: %v", err)
	}
	// Nothing stored: nothing to do.
	if n, err := s.Forget(ctx(t), "xx", "https://nowhere.example.org/feed"); err != nil || n != 0 {
		t.Errorf("Forget of nothing = %d, %v", n, err)
	}
}

func testTrimAndTombstones(t *testing.T, s store.Store) {
	var items []news.Item
	for i := 1; i <= 10; i++ {
		items = append(items, Item("gs", i))
	}
	mustUpsert(t, s, items...)
	mustUpsert(t, s, Item("au", 1))
	n, err := s.Trim(ctx(t), Item("gs", 1).Source, 6, 0, base.Add(100*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("trim by count removed %d, want 4", n)
	}
	// Age: with now = base+12h and max age 4h30m, items published before base+7h30m go.
	n, err = s.Trim(ctx(t), Item("gs", 1).Source, 0, 4*time.Hour+30*time.Minute, base.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // 5, 6, 7 are older than base+7h30m
		t.Errorf("trim by age removed %d, want 3", n)
	}
	got, _ := s.Items(ctx(t), news.Query{Members: []string{"gs"}, Limit: 100})
	if fmt.Sprint(ids(got)) != "[gs-010 gs-009 gs-008]" {
		t.Errorf("after trim = %v", ids(got))
	}
	if _, err := s.Item(ctx(t), "gs-001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("trimmed item still readable: %v", err)
	}
	// Seen again at the source: a tombstone keeps it out.
	r := mustUpsert(t, s, Item("gs", 1), Item("gs", 11))
	if r.New != 1 || fmt.Sprint(r.NewIDs) != "[gs-011]" {
		t.Errorf("upsert after trim = %+v, want only gs-011 new", r)
	}
	if _, err := s.Item(ctx(t), "gs-001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tombstoned item came back")
	}
	if other, _ := s.Items(ctx(t), news.Query{Members: []string{"au"}, Limit: 10}); len(other) != 1 {
		t.Errorf("trim touched another source: %v", ids(other))
	}
}

// A tombstone keeps a trimmed item out until the time it was trimmed is older than
// max_age (the item, dated earlier still, is then one polling no longer stores); then it
// expires, and the store takes the item again if given it.
func testTombstonesExpire(t *testing.T, s store.Store) {
	mustUpsert(t, s, Item("gs", 1), Item("gs", 2))
	src, maxAge := Item("gs", 1).Source, 48*time.Hour
	trimmedAt := base.Add(10 * time.Hour)
	if n, err := s.Trim(ctx(t), src, 1, maxAge, trimmedAt); err != nil || n != 1 {
		t.Fatalf("trim by count: %d, %v; want gs-001 removed", n, err)
	}
	if r := mustUpsert(t, s, Item("gs", 1)); r.New != 0 {
		t.Errorf("upsert of a tombstoned item = %+v, want it kept out", r)
	}
	// A later trim, max_age after the first and a minute: the tombstone expires.
	if _, err := s.Trim(ctx(t), src, 1, maxAge, trimmedAt.Add(maxAge+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if r := mustUpsert(t, s, Item("gs", 1)); r.New != 1 {
		t.Errorf("upsert after its tombstone expired = %+v, want the item new again", r)
	}
}

func testVersion(t *testing.T, s store.Store) {
	v0, err := s.Version(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, Item("gs", 1))
	v1, _ := s.Version(ctx(t))
	if v1 == v0 {
		t.Errorf("version unchanged after insert")
	}
	mustUpsert(t, s, Item("gs", 1))
	v2, _ := s.Version(ctx(t))
	if v2 != v1 {
		t.Errorf("version changed by a no-op upsert")
	}
}

func testLeases(t *testing.T, s store.Store) {
	ok, err := s.Claim(ctx(t), "src:a", "w1", 300*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if ok, _ := s.Claim(ctx(t), "src:a", "w2", time.Second); ok {
		t.Fatalf("second owner claimed a held lease")
	}
	if ok, _ := s.Claim(ctx(t), "src:a", "w1", 300*time.Millisecond); !ok {
		t.Fatalf("owner could not renew")
	}
	time.Sleep(450 * time.Millisecond)
	if ok, _ := s.Claim(ctx(t), "src:a", "w2", time.Second); !ok {
		t.Fatalf("expired lease not taken over")
	}
	if err := s.Release(ctx(t), "src:a", "w1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Claim(ctx(t), "src:a", "w1", time.Second); ok {
		t.Fatalf("release by a non-owner freed the lease")
	}
	if err := s.Release(ctx(t), "src:a", "w2"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Claim(ctx(t), "src:a", "w1", time.Second); !ok {
		t.Fatalf("released lease not claimable")
	}
}

func testConcurrentSameItem(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	results := make([]news.UpsertResult, 8)
	for w := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.Upsert(context.Background(), []news.Item{Item("gs", 7)})
			if err != nil {
				t.Error(err)
			}
			results[w] = r
		}()
	}
	wg.Wait()
	newCount := 0
	for _, r := range results {
		newCount += r.New
	}
	if newCount != 1 {
		t.Errorf("8 concurrent writers of one new item reported %d new, want 1", newCount)
	}
	all, _ := s.Items(ctx(t), news.Query{Limit: 10})
	if len(all) != 1 {
		t.Errorf("stored %d copies", len(all))
	}
}

func testItemNotFound(t *testing.T, s store.Store) {
	if _, err := s.Item(ctx(t), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if err := s.Ping(ctx(t)); err != nil {
		t.Errorf("ping: %v", err)
	}
}

// BenchStored is how many items the store benchmarks fill first: 20,000, or 1,000,000
// with NF_BENCH_LARGE=1.
func BenchStored() int {
	if os.Getenv("NF_BENCH_LARGE") == "1" {
		return 1_000_000
	}
	return 20_000
}

var storyT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// StoryItem is item n of a network of 60 members telling story n, published n minutes
// after 2024-01-01 (1,000,000 items span 1.9 years): the benchmarks' realistic item.
func StoryItem(n int) news.Item {
	m := fmt.Sprintf("m%02d", n%60)
	t := storyT0.Add(time.Duration(n) * time.Minute)
	return news.Item{
		ID: fmt.Sprintf("%s-%08x", m, n), Key: fmt.Sprintf("guid:%d", n), Member: m,
		Source: "https://" + m + ".example.org/feed", Title: fmt.Sprintf("Story %d announced", n),
		Link: fmt.Sprintf("https://%s.example.org/news/%d", m, n), Summary: StoryText(n),
		Language: "en", Published: t, Updated: t, FirstSeen: t,
	}
}

// InlineHistory checks a source state written before histories were kept apart (its
// whole history inline), put in place by putRaw as that version wrote it: it reads whole
// through Source and Sources, cut to its newest poll through SourceStates, and the same
// once written again. It returns the state's URL, for the caller to check where the
// history went.
func InlineHistory(t *testing.T, s store.Store, putRaw func(url string, v []byte) error) string {
	t.Helper()
	st := news.SourceState{URL: "https://x/feed", Member: "gs", Health: news.HealthOK}
	for i := range 3 {
		st.History = append(st.History, news.PollRecord{At: base.Add(-time.Duration(i) * time.Hour), HTTPCode: 200})
	}
	v, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := putRaw(st.URL, v); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if got, err := s.Source(ctx(t), st.URL); err != nil || len(got.History) != 3 {
			t.Errorf("%s: Source has %d polls, %v; want 3", when, len(got.History), err)
		}
		if all, err := s.Sources(ctx(t)); err != nil || len(all) != 1 || len(all[0].History) != 3 {
			t.Errorf("%s: Sources = %+v, %v; want 3 polls", when, all, err)
		}
		if all, err := s.SourceStates(ctx(t)); err != nil || len(all) != 1 || len(all[0].History) != 1 || !all[0].History[0].At.Equal(st.History[0].At) {
			t.Errorf("%s: SourceStates = %+v, %v; want the newest poll only", when, all, err)
		}
	}
	check("inline")
	if err := s.PutSource(ctx(t), st); err != nil {
		t.Fatal(err)
	}
	check("written again")
	// Written inline once more (an earlier version still running beside this one), with
	// a poll more: the state's own history wins over the one kept apart before.
	st.History = append([]news.PollRecord{{At: base.Add(time.Hour), HTTPCode: 200}}, st.History...)
	if v, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := putRaw(st.URL, v); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Source(ctx(t), st.URL); err != nil || len(got.History) != 4 || !got.History[0].At.Equal(st.History[0].At) {
		t.Errorf("inline after apart: Source has %d polls, %v; want the 4 written inline", len(got.History), err)
	}
	if err := s.PutSource(ctx(t), st); err != nil {
		t.Fatal(err)
	}
	return st.URL
}

// A read's memory follows the items it finds, not its limit: the dashboard reads each
// member's items with a limit of 1000 (alerts.ItemsQuery), and room made for 1000 items
// for each of 400 members who have 3 took a /sources request on Redis to 300 MB of RSS.
func testItemsCostWhatTheyFind(t *testing.T, s store.Store) {
	mustUpsert(t, s, Item("gs", 1), Item("gs", 2), Item("gs", 3))
	q := news.Query{Members: []string{"gs"}, Limit: 1000}
	read := func() {
		got, err := s.Items(ctx(t), q)
		if err != nil || len(got) != 3 {
			t.Fatalf("items = %d, %v; want 3", len(got), err)
		}
	}
	read() // a first read may set things up (a script loaded, a connection dialled)
	const reads = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range reads {
		read()
	}
	runtime.ReadMemStats(&after)
	perRead := (after.TotalAlloc - before.TotalAlloc) / reads
	if room := uint64(q.Limit) * uint64(unsafe.Sizeof(news.Item{})); perRead > room/4 {
		t.Errorf("a read of 3 items with limit %d allocates %d bytes, want under %d (a quarter of room for the limit)", q.Limit, perRead, room/4)
	}
}

// testCarryTombstones: an item an earlier version stored under another ID (its key's
// link in an earlier form) and retention removed stays out under its ID of now, until
// that tombstone expires.
func testCarryTombstones(t *testing.T, s store.Store) {
	mustUpsert(t, s, Item("gs", 1), Item("gs", 2))
	src, maxAge := Item("gs", 1).Source, 48*time.Hour
	trimmedAt := base.Add(10 * time.Hour)
	if n, err := s.Trim(ctx(t), src, 1, maxAge, trimmedAt); err != nil || n != 1 {
		t.Fatalf("trim by count: %d, %v; want gs-001 removed", n, err)
	}
	found, err := s.CarryTombstones(ctx(t), map[string]string{"gs-001": "gs-901", "gs-002": "gs-902", "gs-003": "gs-903"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(found) != "[gs-001]" {
		t.Errorf("CarryTombstones found %v, want [gs-001]", found)
	}
	again := func(n int, id string) news.Item {
		it := Item("gs", n)
		it.ID = id
		return it
	}
	if r := mustUpsert(t, s, again(1, "gs-901"), again(3, "gs-903")); fmt.Sprint(r.NewIDs) != "[gs-903]" {
		t.Errorf("upsert under the IDs of now = %+v, want only gs-903 new (gs-901 kept out)", r)
	}
	if _, err := s.Trim(ctx(t), src, 0, maxAge, trimmedAt.Add(maxAge+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if r := mustUpsert(t, s, again(1, "gs-901")); r.New != 1 {
		t.Errorf("upsert after the carried tombstone expired = %+v, want the item new again", r)
	}
}
