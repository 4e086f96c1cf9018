package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
)

func TestStoryRoundTrip(t *testing.T) {
	it := news.Item{ID: "id-1", Member: "gs", Language: "fr", Link: "https://example.org/a?utm_source=x",
		Title:     "Une nouvelle publication sur la protection de l'enfance",
		Summary:   "Le Secrétariat général publie un guide pratique pour les familles séparées par une frontière.",
		Published: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Precision: news.PrecisionDay,
		FirstSeen: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)}
	st := StoryOf(&it)
	if st.Link == "" || strings.Contains(st.Link, "utm_") {
		t.Fatalf("canonical link %q", st.Link)
	}
	got, err := ParseStory(st.AppendBinary([]byte{}))
	if err != nil {
		t.Fatal(err)
	}
	if got != st {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, st)
	}
	if fs, err := StoryFirstSeen(st.AppendBinary(nil)); err != nil || fs != it.FirstSeen.UnixMilli() {
		t.Fatalf("StoryFirstSeen = %d, %v; want %d", fs, err, it.FirstSeen.UnixMilli())
	}
	if got.Entry() != EntryOf(&it) {
		t.Fatalf("entry %+v, want %+v", got.Entry(), EntryOf(&it))
	}
	if len(got.Keys()) != 1+32 {
		t.Fatalf("%d story keys, want the link and 32 bands", len(got.Keys()))
	}
	b := st.AppendBinary(nil)
	for _, bad := range [][]byte{nil, {2}, b[:len(b)-1], append(b, 0), b[:5]} {
		if _, err := ParseStory(bad); !errors.Is(err, errBadStory) {
			t.Errorf("ParseStory(%d bytes) = %v, want a malformed-story error", len(bad), err)
		}
	}
}

// Stories recorded before titles' marks were kept (version 1, in files and Redis
// databases written by earlier versions) still read, with no marks: such a story is
// told apart by its words alone, as before. New ones keep their title's marks.
func TestStoryVersion1(t *testing.T) {
	it := news.Item{ID: "id-1", Member: "gs", Language: "en", Link: "https://example.org/newsletter",
		Title: "ISS Newsletter March 2024", Summary: "News from the network: updates, publications and trainings.",
		Published: time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC), FirstSeen: time.Date(2024, 3, 12, 8, 0, 0, 0, time.UTC)}
	st := StoryOf(&it)
	if st.Marks == 0 {
		t.Fatal("no marks for a title with a month and a year")
	}
	if got, err := ParseStory(st.AppendBinary(nil)); err != nil || got != st {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, st)
	}
	v1 := binary.AppendVarint([]byte{storyVersionV1}, st.Time)
	v1 = binary.AppendVarint(v1, st.FirstSeen)
	for _, s := range []string{st.ID, st.Member, st.Language, st.Link} {
		v1 = appendString(v1, s)
	}
	v1 = st.Sig.AppendBinary(v1)
	want := st
	want.Marks = 0
	got, err := ParseStory(v1)
	if err != nil || got != want {
		t.Fatalf("version 1: %+v, %v; want %+v", got, err, want)
	}
	if fs, err := StoryFirstSeen(v1); err != nil || fs != st.FirstSeen {
		t.Fatalf("StoryFirstSeen of version 1 = %d, %v; want %d", fs, err, st.FirstSeen)
	}
}

func TestConfirmOnStories(t *testing.T) {
	base := news.Item{Language: "en", Title: "ISS launches a new guide for families separated by borders",
		Summary:   "The General Secretariat has published a practical guide for social workers who help families separated by international borders, with case studies.",
		Published: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Precision: news.PrecisionDay}
	a, b, c, far := base, base, base, base
	a.ID, a.Member = "a", "gs"
	b.ID, b.Member = "b", "uk"
	c.ID, c.Member = "c", "gs" // same member as a: never its cluster mate
	far.ID, far.Member = "far", "au"
	far.Published = base.Published.Add(ClusterWindow + time.Hour)
	sa, sb, sc, sfar := StoryOf(&a), StoryOf(&b), StoryOf(&c), StoryOf(&far)
	got := Confirm(&sa, []*Story{&sb, &sc, &sfar})
	if len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("Confirm = %+v, want just b", got)
	}
}

func TestRankCandidates(t *testing.T) {
	it := &Story{ID: "me", Link: "https://example.org/x"}
	perKey := [][]string{
		{"linked"},               // the canonical-link key
		{"b2", "me", "b1", "b3"}, // band keys
		{"b1", "b3"},
		{"b3"},
		{"c1", "c2", "c3", "c4", "c5", "c6", "c7"},
	}
	got := RankCandidates(it, perKey)
	want := []string{"linked", "b3", "b1", "b2", "c1", "c2", "c3", "c4"}
	if !slices.Equal(got, want) {
		t.Fatalf("RankCandidates = %v, want %v", got, want)
	}
	// Without a link, key 0 is a band key like the others.
	it.Link = ""
	if got := RankCandidates(it, perKey[:2]); !slices.Equal(got, []string{"linked", "b2", "b1", "b3"}) {
		t.Fatalf("without a link: %v", got)
	}
}

// Keys hashes into one backing array; the keys must stay those of storyKey (stored
// files and Redis hold them).
func TestKeysAreStoryKeys(t *testing.T) {
	st := StoryOf(&news.Item{ID: "a", Member: "m", Language: "en", Link: "https://example.org/x",
		Title: "Kinder grenzüberschreitend schützen", Summary: "Eine Fachtagung über den Schutz von Kindern in grenzüberschreitenden Familienkonflikten."})
	keys := st.Keys()
	want := [][]byte{storyKey("u\x00" + st.Link)}
	for _, b := range st.Sig.Bands(st.Language) {
		want = append(want, storyKey("b\x00"+b))
	}
	if len(keys) != len(want) || len(want) < 2 {
		t.Fatalf("%d keys, want %d (more than 1)", len(keys), len(want))
	}
	for i := range want {
		if !bytes.Equal(keys[i], want[i]) {
			t.Errorf("key %d = %x, want %x", i, keys[i], want[i])
		}
	}
}

// storyKey is how story keys were made before Keys hashed in place: the oracle.
func storyKey(s string) []byte {
	h := fnv.New64a()
	h.Write([]byte(s))
	return binary.BigEndian.AppendUint64(nil, h.Sum64())
}

// RankCandidates keeps the best MaxCandidates by selection; it must agree with a full
// stable sort of every hit (link first, then most bands, ties in the order found).
func TestRankCandidatesMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 500 {
		it := &Story{ID: "new"}
		if trial%3 == 0 {
			it.Link = "https://example.org/x"
		}
		// Mostly a few keys over few IDs; every tenth trial more keys and IDs than the
		// ranking's table on the stack holds.
		nk, pool := 1+rng.IntN(12), 40
		if trial%10 == 0 {
			nk, pool = 40+rng.IntN(30), 1000
		}
		perKey := make([][]string, nk)
		for k := range perKey {
			for range rng.IntN(17) {
				perKey[k] = append(perKey[k], fmt.Sprint("id", rng.IntN(pool)))
			}
		}
		type hit struct {
			id          string
			link        bool
			bands, seen int
		}
		var hits []*hit
		at := map[string]*hit{}
		for k, ids := range perKey {
			for _, id := range ids {
				h := at[id]
				if h == nil {
					h = &hit{id: id, seen: len(hits)}
					at[id] = h
					hits = append(hits, h)
				}
				if k == 0 && it.Link != "" {
					h.link = true
				} else {
					h.bands++
				}
			}
		}
		slices.SortStableFunc(hits, func(a, b *hit) int {
			if a.link != b.link {
				if a.link {
					return -1
				}
				return 1
			}
			return cmp.Compare(b.bands, a.bands)
		})
		var want []string
		for _, h := range hits[:min(len(hits), MaxCandidates)] {
			want = append(want, h.id)
		}
		if got := RankCandidates(it, perKey); !slices.Equal(got, want) {
			t.Fatalf("trial %d: RankCandidates = %v, want %v", trial, got, want)
		}
	}
}

// BenchmarkRankCandidates ranks the lists of a crowded item, as fleet feeds make them:
// 33 story keys, each with BandDepth IDs (identity.ID's 23 characters) drawn from a
// few hundred items that share vocabulary.
func BenchmarkRankCandidates(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	pool := make([]string, 300)
	for i := range pool {
		pool[i] = fmt.Sprintf("m%03d-%018x", i%50, rng.Uint64()>>8)
	}
	it := &Story{ID: "new", Link: "https://example.org/x"}
	perKey := make([][]string, 33)
	for k := range perKey {
		for range BandDepth {
			perKey[k] = append(perKey[k], pool[rng.IntN(len(pool))])
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		RankCandidates(it, perKey)
	}
}

// An item whose source links it and others to one page (identity.SharedLinkKey) is not
// another member's item's copy because that item links to the page too: the page names
// no story. Its words still can (a real copy of it).
func TestSharedLinkNamesNoStory(t *testing.T) {
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	de := news.Item{ID: "nf-de-1", Member: "iss-de", Language: "de", Link: "https://iss-de.example/aktuelles",
		Title:     "Neue Broschüre zur Kafala",
		Summary:   "Der ISD hat eine Broschüre zur Kafala für Fachkräfte der Jugendhilfe veröffentlicht, mit Beispielen aus der Beratung.",
		Published: day, Precision: news.PrecisionExact, FirstSeen: day}
	de.Canonical = "https://iss-de.example/aktuelles"
	de.Key = identity.SharedLinkKeyOf(de)
	at := news.Item{ID: "nf-at-1", Member: "iss-at", Language: "de", Link: "https://iss-de.example/aktuelles/",
		Title:     "Unsere Partner in Deutschland",
		Summary:   "Besuchen Sie die Seite unserer Kolleginnen und Kollegen vom Internationalen Sozialdienst in Deutschland.",
		Published: day.Add(48 * time.Hour), Precision: news.PrecisionExact, FirstSeen: day.Add(48 * time.Hour)}
	at.Canonical = "https://iss-de.example/aktuelles"
	at.Key = "guid:at-1"
	sde, sat := StoryOf(&de), StoryOf(&at)
	if sde.Link != "" || len(sde.Keys()) != 32 {
		t.Errorf("shared link filed: story link %q, %d keys (want none, and the 32 bands)", sde.Link, len(sde.Keys()))
	}
	if got := Confirm(&sat, []*Story{&sde}); len(got) != 0 {
		t.Errorf("another member's post linking to the shared page taken for a copy: %+v", got)
	}
	if got := Confirm(&sde, []*Story{&sat}); len(got) != 0 {
		t.Errorf("the shared-link item taken for a copy of a post linking to its page: %+v", got)
	}
	cp := at
	cp.ID, cp.Key, cp.Title, cp.Summary = "nf-at-2", "guid:at-2", "ISD: Neue Broschüre zur Kafala", "Vom ISD: "+de.Summary
	scp := StoryOf(&cp)
	if got := Confirm(&scp, []*Story{&sde}); len(got) != 1 {
		t.Errorf("a copy of the shared-link item's words not found: %+v", got)
	}
}
