package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
)

// words is the vocabulary StoryText draws from.
var words = strings.Fields(`child family court border social worker adoption kafala guideline mediation
	webinar training report annual network member case protection migrant refugee unaccompanied
	minor reunification central authority convention hague article judge decision placement foster
	care kinship support service office country region europe africa asia america pacific project
	fund partner donor campaign launch publish research study survey data evidence policy practice
	standard toolkit handbook manual course session module trainer participant online event
	conference meeting seminar workshop panel speaker expert colleague team staff volunteer director
	board council committee statement press release news update story voice youth parent mother
	father sibling grandparent relative guardian caregiver school health education housing income
	poverty violence abuse neglect trafficking exploitation detention asylum visa passport embassy`)

// StoryText is a summary of about 40 words that no other n shares (word 3-shingles
// of two different n overlap by chance only).
func StoryText(n int) string {
	x := uint64(n)*0x9e3779b97f4a7c15 + 1
	out := make([]string, 40)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = words[x%uint64(len(words))]
	}
	return strings.Join(out, " ")
}

// Story is item n of member m telling story s: its title and summary are story s's,
// in English; link and ID are m's own.
func Story(m string, n, s int) news.Item {
	it := Item(m, n)
	it.Language = "en"
	it.Title = fmt.Sprintf("Story %d announced", s)
	it.Summary = StoryText(s)
	return it
}

func clusterTests() []namedTest {
	return []namedTest{
		{"ClusterSyndicated", testClusterSyndicated},
		{"ClusterByLink", testClusterByLink},
		{"ClusterNotSeriesIssues", testClusterNotSeriesIssues},
		{"ClusterStandInUnderFilter", testClusterStandInUnderFilter},
		{"ClusterFull", testClusterFull},
		{"ClusterEarlierCopyShown", testClusterEarlierCopyShown},
		{"ClusterNotAcross", testClusterNotAcross},
		{"ClusterThreeMembers", testClusterThreeMembers},
		{"ClusterTrimShown", testClusterTrimShown},
		{"ClusterRedated", testClusterRedated},
		{"ClusterWindowFollowsRedate", testClusterWindowFollowsRedate},
		{"ClusterFollowsRewrite", testClusterFollowsRewrite},
		{"ClusterPaging", testClusterPaging},
		{"ClusterConcurrent", testClusterConcurrent},
	}
}

type namedTest struct {
	name string
	fn   func(*testing.T, store.Store)
}

func get(t *testing.T, s store.Store, id string) news.Item {
	t.Helper()
	it, err := s.Item(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func query(t *testing.T, s store.Store, q news.Query) []news.Item {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	got, err := s.Items(ctx(t), q)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func wantIDs(t *testing.T, what string, got []news.Item, want string) {
	t.Helper()
	if fmt.Sprint(ids(got)) != want {
		t.Errorf("%s = %v, want %s", what, ids(got), want)
	}
}

func wantCluster(t *testing.T, s store.Store, id, cluster string, also ...string) {
	t.Helper()
	it := get(t, s, id)
	if it.ClusterID != cluster || !slices.Equal(it.AlsoBy, also) {
		t.Errorf("%s: cluster %q also by %q, want %q also by %q", id, it.ClusterID, it.AlsoBy, cluster, also)
	}
}

// A branch republishes the GS's story with another first sentence and title, a day
// later: the combined feed shows it once, from the GS, also by the branch; each
// member's own timeline keeps its own copy.
func testClusterSyndicated(t *testing.T, s store.Store) {
	gs := Story("gs", 1, 7)
	mustUpsert(t, s, gs, Story("gs", 2, 8))
	au := Story("au", 25, 7)
	au.Title = "From Geneva: story 7"
	au.Summary = "Our colleagues at the General Secretariat announced it. " + au.Summary
	mustUpsert(t, s, au)
	wantCluster(t, s, "gs-001", "gs-001", "au")
	wantCluster(t, s, "au-025", "gs-001")
	wantIDs(t, "clustered", query(t, s, news.Query{Clustered: true}), "[gs-002 gs-001]")
	wantIDs(t, "all", query(t, s, news.Query{}), "[au-025 gs-002 gs-001]")
	wantIDs(t, "au's own", query(t, s, news.Query{Members: []string{"au"}}), "[au-025]")
	wantCluster(t, s, "gs-002", "")
}

// A monthly newsletter's issues share their boilerplate: the GS's March issue and a
// branch's April one, far more alike than the threshold, are two stories (their titles'
// months differ), while a copy of the March issue with a date before its title joins it.
func testClusterNotSeriesIssues(t *testing.T, s store.Store) {
	gs := Story("gs", 1, 7)
	gs.Title = "ISS Newsletter March 2024"
	au := Story("au", 2, 7)
	au.Title = "ISS Newsletter April 2024"
	au.Published = gs.Published.Add(27 * 24 * time.Hour)
	au.Updated = au.Published
	mustUpsert(t, s, gs)
	mustUpsert(t, s, au)
	wantCluster(t, s, "gs-001", "")
	wantCluster(t, s, "au-002", "")
	be := Story("be", 3, 7)
	be.Title = "12.03.2024 – ISS Newsletter March 2024"
	mustUpsert(t, s, be)
	wantCluster(t, s, "gs-001", "gs-001", "be")
	wantCluster(t, s, "be-003", "gs-001")
	wantIDs(t, "clustered", query(t, s, news.Query{Clustered: true}), "[au-002 gs-001]")
}

// Two members link to the same page (http/https, tracking parameters): one story,
// whatever the titles say.
func testClusterByLink(t *testing.T, s store.Store) {
	gs := Item("gs", 1)
	gs.Link = "https://www.iss-ssi.example.org/news/kafala?utm_source=rss"
	gs.Canonical = "https://iss-ssi.example.org/news/kafala"
	au := Item("au", 2)
	au.Link = "http://iss-ssi.example.org/news/kafala/"
	au.Canonical = "https://iss-ssi.example.org/news/kafala"
	fr := Item("fr", 3)
	fr.Link = "https://iss-ssi.example.org/news/other"
	mustUpsert(t, s, gs, au, fr)
	wantCluster(t, s, "gs-001", "gs-001", "au")
	wantCluster(t, s, "fr-003", "")
	wantIDs(t, "clustered", query(t, s, news.Query{Clustered: true}), "[fr-003 gs-001]")
}

// The GS publishes in English, the French branch and Australia link to the same page:
// one story, shown from the GS. A clustered read filtered on what a copy says for itself
// (language, category, words) that leaves the GS's copy out shows the earliest copy it
// keeps instead: the story does not vanish from the French feed.
func testClusterStandInUnderFilter(t *testing.T, s store.Store) {
	page := "https://iss-ssi.example.org/news/kafala"
	gs, fr, au := Item("gs", 1), Item("fr", 2), Item("au", 3)
	for _, it := range []*news.Item{&gs, &fr, &au} {
		it.Canonical = page
	}
	fr.Summary = "Fraternité et protection de l'enfance"
	fr.Categories = []string{"Réseau"}
	mustUpsert(t, s, gs, fr, au)
	wantCluster(t, s, "gs-001", "gs-001", "au", "fr")
	for _, c := range []struct {
		name string
		q    news.Query
		want string
	}{
		{"unfiltered", news.Query{Clustered: true}, "[gs-001]"},
		{"lang fr", news.Query{Clustered: true, Language: "fr"}, "[fr-002]"},
		{"lang en", news.Query{Clustered: true, Language: "en"}, "[gs-001]"},
		{"words", news.Query{Clustered: true, Text: "fraternite"}, "[fr-002]"},
		{"category", news.Query{Clustered: true, Category: "réseau"}, "[fr-002]"},
		{"words of every copy", news.Query{Clustered: true, Text: "summary"}, "[gs-001]"},
		{"nothing matches", news.Query{Clustered: true, Language: "de"}, "[]"},
	} {
		wantIDs(t, c.name, query(t, s, c.q), c.want)
	}
}

// The branch's copy is stored first, then the GS's earlier original: the original
// becomes the shown item; the cluster keeps the name of its first stored item.
func testClusterEarlierCopyShown(t *testing.T, s store.Store) {
	mustUpsert(t, s, Story("au", 5, 3))
	wantIDs(t, "before", query(t, s, news.Query{Clustered: true}), "[au-005]")
	mustUpsert(t, s, Story("gs", 2, 3))
	wantCluster(t, s, "gs-002", "au-005", "au")
	wantCluster(t, s, "au-005", "au-005")
	wantIDs(t, "after", query(t, s, news.Query{Clustered: true}), "[gs-002]")
	// Same published time: the one seen first is shown.
	a, b := Story("gs", 9, 4), Story("au", 9, 4)
	b.FirstSeen = a.FirstSeen.Add(-time.Minute)
	mustUpsert(t, s, a, b)
	wantIDs(t, "tie", query(t, s, news.Query{Clustered: true}), "[au-009 gs-002]")
}

// Translations, one member's own repeats and stories too far apart never cluster.
func testClusterNotAcross(t *testing.T, s store.Store) {
	en := Story("gs", 1, 5)
	fr := Story("fr", 2, 5)
	fr.Language = "fr" // the same words tagged French: a translation is never a duplicate
	again := Story("gs", 3, 5)
	late := Story("au", 1, 5)
	late.Published = en.Published.Add(store.ClusterWindow + 10*time.Hour) // and 30 days 8 hours after gs-003
	other := Story("au", 4, 6)
	mustUpsert(t, s, en, fr, again, late, other)
	for _, id := range []string{"gs-001", "fr-002", "gs-003", "au-001", "au-004"} {
		wantCluster(t, s, id, "")
	}
	if got := query(t, s, news.Query{Clustered: true}); len(got) != 5 {
		t.Errorf("clustered = %v, want all 5", ids(got))
	}
}

// Three members, one story; a member can be in a cluster once.
func testClusterThreeMembers(t *testing.T, s store.Store) {
	fr := Story("fr", 3, 2)
	fr.Language = "en"
	mustUpsert(t, s, Story("au", 2, 2))
	mustUpsert(t, s, fr, Story("gs", 4, 2))
	wantCluster(t, s, "au-002", "au-002", "fr", "gs")
	wantIDs(t, "clustered", query(t, s, news.Query{Clustered: true}), "[au-002]")
	wantIDs(t, "fr and gs own", query(t, s, news.Query{Members: []string{"fr", "gs"}}), "[gs-004 fr-003]")
	// A second copy from au (another item of the same member) stays out of the cluster.
	mustUpsert(t, s, Story("au", 6, 2))
	wantCluster(t, s, "au-006", "")
	wantIDs(t, "clustered", query(t, s, news.Query{Clustered: true}), "[au-006 au-002]")
}

// Trimming the shown item shows the next earliest copy; trimming them all leaves nothing.
func testClusterTrimShown(t *testing.T, s store.Store) {
	fr := Story("fr", 3, 2)
	fr.Language = "en"
	mustUpsert(t, s, Story("gs", 1, 2), Story("au", 2, 2), fr, Story("gs", 10, 9))
	wantIDs(t, "before", query(t, s, news.Query{Clustered: true}), "[gs-010 gs-001]")
	if _, err := s.Trim(ctx(t), Item("gs", 1).Source, 1, 0, base); err != nil {
		t.Fatal(err)
	}
	wantCluster(t, s, "au-002", "gs-001", "fr")
	wantCluster(t, s, "fr-003", "gs-001")
	wantIDs(t, "after trim", query(t, s, news.Query{Clustered: true}), "[gs-010 au-002]")
	if _, err := s.Trim(ctx(t), Item("au", 1).Source, 0, time.Hour, base.Add(1000*time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantCluster(t, s, "fr-003", "gs-001")
	wantIDs(t, "after second trim", query(t, s, news.Query{Clustered: true}), "[gs-010 fr-003]")
	// A new copy joins the rest of the cluster.
	mustUpsert(t, s, Story("au", 4, 2))
	wantCluster(t, s, "fr-003", "gs-001", "au")
	wantIDs(t, "after new copy", query(t, s, news.Query{Clustered: true}), "[gs-010 fr-003]")
}

// An undated copy that gains an earlier real date becomes the shown item.
func testClusterRedated(t *testing.T, s store.Store) {
	gs := Story("gs", 5, 1)
	au := Story("au", 8, 1)
	au.Precision = news.PrecisionNone
	mustUpsert(t, s, gs, au)
	wantIDs(t, "before", query(t, s, news.Query{Clustered: true}), "[gs-005]")
	dated := Story("au", 8, 1)
	dated.Published = base.Add(2 * time.Hour)
	mustUpsert(t, s, dated)
	wantCluster(t, s, "au-008", "gs-005", "gs")
	wantCluster(t, s, "gs-005", "gs-005")
	wantIDs(t, "after", query(t, s, news.Query{Clustered: true}), "[au-008]")
}

// A stored item whose date moves is matched by its new date: a copy dated near its old
// date, now more than ClusterWindow away, stands alone; one near the new date joins it.
func testClusterWindowFollowsRedate(t *testing.T, s store.Store) {
	gs := Story("gs", 1, 3)
	mustUpsert(t, s, gs)
	moved := Story("gs", 1, 3)
	moved.Published = gs.Published.Add(-2 * store.ClusterWindow)
	if r := mustUpsert(t, s, moved); r.Updated != 1 {
		t.Fatalf("redate: %+v, want 1 updated", r)
	}
	old := Story("au", 2, 3)
	old.Published = gs.Published
	mustUpsert(t, s, old)
	if got := get(t, s, "au-002"); got.ClusterID != "" {
		t.Errorf("a copy dated at the item's old date joined %q: the window must follow the new date", got.ClusterID)
	}
	near := Story("uk", 3, 3)
	near.Published = moved.Published.Add(time.Hour)
	mustUpsert(t, s, near)
	wantCluster(t, s, "uk-003", "gs-001")
	wantCluster(t, s, "gs-001", "gs-001", "uk")
}

// A stored item whose words change (an edited title and text) is found by its new
// words: a copy of the story it now tells, from another member, joins it.
func testClusterFollowsRewrite(t *testing.T, s store.Store) {
	mustUpsert(t, s, Story("gs", 1, 21))
	rewritten := Story("gs", 1, 22)
	if r := mustUpsert(t, s, rewritten); r.Updated != 1 {
		t.Fatalf("rewrite: %+v, want 1 updated", r)
	}
	mustUpsert(t, s, Story("au", 2, 22))
	wantCluster(t, s, "au-002", "gs-001")
	wantCluster(t, s, "gs-001", "gs-001", "au")
}

// Clustered pages hold Limit shown items however many hidden copies lie between.
func testClusterPaging(t *testing.T, s store.Store) {
	var items []news.Item
	for i := 1; i <= 20; i++ {
		items = append(items, Story("gs", 2*i, i))
		c := Story("au", 2*i+1, i) // a later copy of every story
		items = append(items, c)
	}
	mustUpsert(t, s, items...)
	var all []string
	q := news.Query{Clustered: true, Limit: 3}
	for range 20 {
		page := query(t, s, q)
		if len(page) == 0 {
			break
		}
		if len(page) != 3 && len(all)+len(page) != 20 {
			t.Fatalf("short page %v after %d items", ids(page), len(all))
		}
		all = append(all, ids(page)...)
		last := page[len(page)-1]
		q.Before = news.Cursor{Time: last.SortTime(), ID: last.ID}
	}
	if len(all) != 20 || all[0] != "gs-040" || all[19] != "gs-002" {
		t.Errorf("clustered pages = %v, want the 20 GS items", all)
	}
	for _, id := range all {
		if !strings.HasPrefix(id, "gs-") {
			t.Errorf("hidden copy %s shown", id)
		}
	}
}

// Two writers store the two copies of each story at the same time: every story ends
// up in one cluster, shown once.
func testClusterConcurrent(t *testing.T, s store.Store) {
	const n = 20
	var wg sync.WaitGroup
	for _, m := range []string{"gs", "au"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if _, err := s.Upsert(context.Background(), []news.Item{Story(m, i, 100+i)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got := query(t, s, news.Query{Clustered: true})
	if len(got) != n {
		t.Errorf("clustered = %d items, want %d: %v", len(got), n, ids(got))
	}
	for _, it := range got {
		if it.ClusterID == "" || len(it.AlsoBy) != 1 {
			t.Errorf("%s: cluster %q also by %v", it.ID, it.ClusterID, it.AlsoBy)
		}
	}
}

// A cluster holds at most store.MaxClusterSize copies: further copies start another, so
// one decision never reads or writes an unbounded cluster.
func testClusterFull(t *testing.T, s store.Store) {
	n := store.MaxClusterSize + 2
	for i := range n {
		mustUpsert(t, s, Story(fmt.Sprintf("m%02d", i), i+1, 5))
	}
	got := query(t, s, news.Query{Clustered: true, Limit: 100})
	var sizes []int
	for _, it := range got {
		sizes = append(sizes, 1+len(it.AlsoBy))
	}
	slices.Sort(sizes)
	// The first MaxClusterSize copies fill one cluster; the next ones start another.
	if fmt.Sprint(sizes) != fmt.Sprint([]int{2, store.MaxClusterSize}) {
		t.Errorf("clustered read of %d copies shows clusters of sizes %v, want [2 %d]", n, sizes, store.MaxClusterSize)
	}
}
