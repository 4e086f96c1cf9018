package identity

import (
	"encoding/binary"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/iss-network/networkfeed/internal/news"
)

type labelled struct {
	Stories map[string]struct {
		Lang, Link, Title, Text string
	}
	Pairs []struct {
		A, B string
		Same bool
		Why  string
	}
}

func loadLabelled(t testing.TB) labelled {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stories.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var l labelled
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("decode stories.yaml: %v", err)
	}
	return l
}

// TestSameStoryLabelled runs SameStory over hand-labelled pairs of ISS-style
// announcements: the same announcement republished with another first sentence is
// the same story; translations and other news of the same organisation are not.
// It reports precision and recall and fails when either is below 0.9.
func TestSameStoryLabelled(t *testing.T) {
	l := loadLabelled(t)
	if len(l.Pairs) < 30 {
		t.Fatalf("only %d labelled pairs, want at least 30", len(l.Pairs))
	}
	var tp, fp, fn, tn int
	for _, p := range l.Pairs {
		a, okA := l.Stories[p.A]
		b, okB := l.Stories[p.B]
		if !okA || !okB {
			t.Fatalf("pair %s/%s names an unknown story", p.A, p.B)
		}
		ia := news.Item{Language: a.Lang, Link: a.Link, Title: a.Title, Summary: a.Text}
		ib := news.Item{Language: b.Lang, Link: b.Link, Title: b.Title, Summary: b.Text}
		sa, sb := Sign(a.Lang, a.Title, a.Text), Sign(b.Lang, b.Title, b.Text)
		got := SameStory(ia, ib, sa, sb)
		sim := sa.Similarity(sb)
		bandHit := shareBand(sa.Bands(a.Lang), sb.Bands(b.Lang))
		t.Logf("%-26s %-26s sim=%.2f band=%v same=%v want=%v (%s)", p.A, p.B, sim, bandHit, got, p.Same, p.Why)
		switch {
		case got && p.Same:
			tp++
		case got && !p.Same:
			fp++
			t.Logf("FALSE POSITIVE: %s ~ %s (similarity %.2f; %s)", p.A, p.B, sim, p.Why)
		case !got && p.Same:
			fn++
			t.Logf("FALSE NEGATIVE: %s vs %s (similarity %.2f; %s)", p.A, p.B, sim, p.Why)
		default:
			tn++
		}
		if got && sim >= Threshold && !bandHit {
			t.Errorf("%s ~ %s match but share no LSH band: the store would never compare them", p.A, p.B)
		}
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	t.Logf("pairs=%d tp=%d fp=%d fn=%d tn=%d precision=%.2f recall=%.2f", len(l.Pairs), tp, fp, fn, tn, precision, recall)
	if precision < 0.9 || recall < 0.9 {
		t.Fatalf("precision %.2f recall %.2f, want both >= 0.9", precision, recall)
	}
}

func shareBand(a, b []string) bool {
	for _, k := range a {
		if slices.Contains(b, k) {
			return true
		}
	}
	return false
}

func TestSign(t *testing.T) {
	text := "International Social Service helps children and families separated by borders."
	a := Sign("en", "Title", text)
	if a != Sign("en", "Title", text) {
		t.Fatal("Sign is not deterministic")
	}
	if got := a.Similarity(a); got != 1 {
		t.Errorf("self similarity %v, want 1", got)
	}
	t.Run("case and accents folded", func(t *testing.T) {
		x := Sign("fr", "Été", "Journée d'étude à Genève sur la protection de l'enfance")
		y := Sign("fr", "ETE", "journee d'etude a geneve sur la PROTECTION de l'enfance")
		if x != y {
			t.Errorf("folded texts sign differently (similarity %.2f)", x.Similarity(y))
		}
	})
	t.Run("language is part of the signature", func(t *testing.T) {
		if s := Sign("fr", "Title", text).Similarity(a); s > 0.2 {
			t.Errorf("same text in another language has similarity %.2f", s)
		}
		if shareBand(a.Bands("en"), Sign("fr", "Title", text).Bands("fr")) {
			t.Error("different languages share a band key")
		}
	})
	t.Run("empty resembles nothing", func(t *testing.T) {
		e := Sign("en", "", "  … ")
		if e.Similarity(e) != 0 || e.Bands("en") != nil {
			t.Errorf("empty signature: similarity %v, bands %v", e.Similarity(e), e.Bands("en"))
		}
	})
	t.Run("short text does not sign", func(t *testing.T) {
		s := Sign("en", "Hi", "")
		if s.Similarity(Sign("en", "hi", "")) != 0 || s.Bands("en") != nil {
			t.Error("a one-word text got a signature: short items cluster only by link")
		}
	})
	t.Run("cjk character shingles", func(t *testing.T) {
		x := Sign("ja", "", "国際養子縁組に関する新しいガイドラインを公表しました")
		y := Sign("ja", "", "国際養子縁組に関する新しいガイドラインについて")
		if s := x.Similarity(y); s < 0.3 || s == 1 {
			t.Errorf("overlapping Japanese texts have similarity %.2f", s)
		}
	})
	t.Run("bands", func(t *testing.T) {
		bands := a.Bands("en")
		if len(bands) != NumBands {
			t.Fatalf("%d bands, want %d", len(bands), NumBands)
		}
		seen := map[string]bool{}
		for i, k := range bands {
			parts := strings.Split(k, ":")
			if len(parts) != 3 || parts[0] != "en" || parts[1] != strconv.Itoa(i) || parts[2] == "" || seen[k] {
				t.Errorf("band key %q malformed or repeated", k)
			}
			seen[k] = true
		}
	})
}

func TestSameStory(t *testing.T) {
	s := Sign("en", "T", "a b c d e f g h")
	o := Sign("en", "X", "completely other words here now")
	tests := []struct {
		name   string
		a, b   news.Item
		sa, sb Signature
		want   bool
	}{
		{"same canonical field", news.Item{Canonical: "https://x.example/a", Language: "en"}, news.Item{Canonical: "https://x.example/a", Language: "fr"}, s, o, true},
		{"same link computed", news.Item{Link: "http://www.x.example/a/"}, news.Item{Link: "https://x.example/a?utm_source=x"}, s, o, true},
		{"similar same language", news.Item{Language: "en"}, news.Item{Language: "EN"}, s, s, true},
		{"similar other language", news.Item{Language: "en"}, news.Item{Language: "fr"}, s, s, false},
		{"different", news.Item{Language: "en"}, news.Item{Language: "en"}, s, o, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameStory(tt.a, tt.b, tt.sa, tt.sb); got != tt.want {
				t.Errorf("SameStory = %v, want %v", got, tt.want)
			}
		})
	}
}

// benchStory is a realistic item of about 1 KB in lang: the title of the first
// labelled story in that language and the texts of its stories (in name order)
// joined until the summary reaches 1 KB.
func benchStory(b *testing.B, lang string) (title, text string) {
	b.Helper()
	l := loadLabelled(b)
	names := slices.Sorted(maps.Keys(l.Stories))
	var sb strings.Builder
	for len(text) < 1024 {
		for _, n := range names {
			st := l.Stories[n]
			if st.Lang != lang {
				continue
			}
			if title == "" {
				title = st.Title
			}
			if sb.Len() > 0 {
				sb.WriteString(" ")
			}
			sb.WriteString(st.Text)
			if sb.Len() >= 1024 {
				break
			}
		}
		text = sb.String()
	}
	return title, text
}

// BenchmarkSign signs a 1 KB item: English (ASCII), French (accented Latin) and
// Japanese (CJK, one token per character).
func BenchmarkSign(b *testing.B) {
	for _, lang := range []string{"en", "fr", "ja"} {
		b.Run(lang, func(b *testing.B) {
			title, text := benchStory(b, lang)
			b.SetBytes(int64(len(title) + len(text)))
			b.ReportAllocs()
			for b.Loop() {
				Sign(lang, title, text)
			}
		})
	}
}

func BenchmarkBands(b *testing.B) {
	title, text := benchStory(b, "en")
	sig := Sign("en", title, text)
	b.ReportAllocs()
	for b.Loop() {
		sig.Bands("en")
	}
}

func TestShortTextsNeverNearDuplicates(t *testing.T) {
	a := Sign("en", "Story of source 12", "")
	b := Sign("en", "Story of source 13", "")
	if a.Similarity(b) != 0 || len(a.Bands("en")) != 0 {
		t.Errorf("short titles got a signature: similarity %.2f, %d bands", a.Similarity(b), len(a.Bands("en")))
	}
	long := Sign("en", "ISS launches a MOOC on alternative care", "for children in the context of migration")
	if len(long.Bands("en")) == 0 {
		t.Errorf("a real headline with text got no bands")
	}
}

// TestShortCJKTitlesNeverNearDuplicates: CJK text is one token per character, so a
// short title of a few words is 8 tokens or more; it must be as long as the words of
// another script before it resembles anything (two members' own year-end closure
// notices, titled alike, were one story).
func TestShortCJKTitlesNeverNearDuplicates(t *testing.T) {
	for _, c := range []struct{ lang, title, text string }{
		{"ja", "年末年始休業のお知らせ", ""},
		{"ja", "事務所移転のお知らせ", "詳細"},
		{"zh", "國際社會服務社年度報告", ""},
		{"th", "ประกาศวันหยุดปีใหม่", ""},
	} {
		sig := Sign(c.lang, c.title, c.text)
		if n := len(sig.Bands(c.lang)); n != 0 || sig.Similarity(sig) != 0 {
			t.Errorf("Sign(%q, %q, %q): a short CJK text got a signature (%d bands)", c.lang, c.title, c.text, n)
		}
		it := news.Item{Language: c.lang, Title: c.title, Summary: c.text}
		if SameStory(it, it, sig, sig) {
			t.Errorf("%q: two short CJK items without a link taken for one story", c.title)
		}
	}
	long := Sign("ja", "国際養子縁組に関する新しいガイドライン", "ISSは国際養子縁組に関する新しいガイドラインを公表しました。")
	if len(long.Bands("ja")) == 0 {
		t.Errorf("a Japanese headline with text got no bands")
	}
}

func TestSignatureBinary(t *testing.T) {
	l := loadLabelled(t)
	st := l.Stories["kafala-en"]
	for _, sig := range []Signature{Sign(st.Lang, st.Title, st.Text), Sign("en", "", "")} {
		prefix := []byte("k:")
		b := sig.AppendBinary(prefix)
		if len(b) != len(prefix)+SignatureSize || string(b[:2]) != "k:" {
			t.Fatalf("AppendBinary gave %d bytes (prefix %q), want %d after the prefix", len(b), b[:2], SignatureSize)
		}
		if got := binary.LittleEndian.Uint32(b[2+4*5:]); got != sig[5] {
			t.Errorf("value 5 encoded as %#x, want %#x little-endian", got, sig[5])
		}
		got, err := ParseSignature(b[2:])
		if err != nil {
			t.Fatal(err)
		}
		if got != sig {
			t.Errorf("round trip changed the signature")
		}
	}
	for _, n := range []int{0, SignatureSize - 1, SignatureSize + 1} {
		if _, err := ParseSignature(make([]byte, n)); err == nil {
			t.Errorf("ParseSignature accepted %d bytes", n)
		}
	}
}

// shingleSet is the exact set of shingle hashes Sign takes the MinHash of.
func shingleSet(lang, title, text string) map[uint64]bool {
	toks := tokenHashes(nil, title, text)
	set := map[uint64]bool{}
	for i := 0; i+shingleLen <= len(toks); i++ {
		set[shingleHash(langHash(lang), toks[i], toks[i+1], toks[i+2])] = true
	}
	return set
}

func jaccard(a, b map[uint64]bool) float64 {
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// TestSimilarityEstimatesJaccard checks that the hash family behaves like random
// permutations: over pairs of texts with known overlap, Similarity is unbiased and
// its error is what 96 independent hashes give (standard error sqrt(J(1-J)/96)).
func TestSimilarityEstimatesJaccard(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	words := func(n int) []string {
		w := make([]string, n)
		for i := range w {
			w[i] = "w" + strconv.Itoa(rng.IntN(5000))
		}
		return w
	}
	var bias, sq, want float64
	const pairs = 400
	for range pairs {
		shared := words(20 + rng.IntN(100))
		a := strings.Join(append(words(rng.IntN(60)), shared...), " ")
		b := strings.Join(append(shared, words(rng.IntN(60))...), " ")
		j := jaccard(shingleSet("en", "", a), shingleSet("en", "", b))
		d := Sign("en", "", a).Similarity(Sign("en", "", b)) - j
		bias += d
		sq += d * d
		want += j * (1 - j) / NumHashes
	}
	bias /= pairs
	rmse, wantRMSE := math.Sqrt(sq/pairs), math.Sqrt(want/pairs)
	t.Logf("bias %.4f, RMS error %.4f (independent hashes: %.4f)", bias, rmse, wantRMSE)
	if math.Abs(bias) > 0.01 || rmse > 1.15*wantRMSE {
		t.Errorf("bias %.4f, RMS error %.4f: want |bias| <= 0.01 and RMS error near %.4f", bias, rmse, wantRMSE)
	}
}

// TestBandsMatchReference pins the band keys to their definition: "lang:band:" and
// the hex FNV-1a 64 of the band's values, big-endian.
func TestBandsMatchReference(t *testing.T) {
	l := loadLabelled(t)
	for name, st := range l.Stories {
		for _, lang := range []string{st.Lang, strings.ToUpper(st.Lang), "x-Ünï"} {
			sig := Sign(st.Lang, st.Title, st.Text)
			var want []string
			for b := range NumBands {
				h := fnv.New64a()
				for r := range BandRows {
					h.Write(binary.BigEndian.AppendUint32(nil, sig[b*BandRows+r]))
				}
				want = append(want, strings.ToLower(lang)+":"+strconv.Itoa(b)+":"+strconv.FormatUint(h.Sum64(), 16))
			}
			if got := sig.Bands(lang); !slices.Equal(got, want) {
				t.Errorf("%s: Bands(%q) = %q, want %q", name, lang, got, want)
			}
		}
	}
}

// Two issues of a series share their boilerplate, and their words are far more alike
// than Threshold: their titles' numbers and months tell them apart, while a copy that
// only adds a date to the title stays the same story.
func TestSeriesIssuesAreNotOneStory(t *testing.T) {
	l := loadLabelled(t)
	item := func(name string) (news.Item, Signature) {
		s, ok := l.Stories[name]
		if !ok {
			t.Fatalf("no story %s", name)
		}
		return news.Item{Language: s.Lang, Link: s.Link, Title: s.Title, Summary: s.Text}, Sign(s.Lang, s.Title, s.Text)
	}
	mar, smar := item("newsletter-en-mar")
	apr, sapr := item("newsletter-en-apr")
	marB, smarB := item("newsletter-en-mar-b")
	if sim := smar.Similarity(sapr); sim < Threshold {
		t.Fatalf("the two issues are only %.2f alike: the fixture no longer tests the marks", sim)
	}
	if SameStory(mar, apr, smar, sapr) {
		t.Errorf("March and April issues taken for one story")
	}
	if !SameStory(mar, marB, smar, smarB) {
		t.Errorf("the March issue and its copy with a date before the title taken for two stories")
	}
	for _, c := range []struct {
		a, b   string
		differ bool
	}{
		{"Newsletter March 2024", "Newsletter April 2024", true},
		{"Lettre d'information – mars 2024", "Lettre d'information – avril 2024", true},
		{"ニュースレター 2024年3月号", "ニュースレター 2024年4月号", true},
		{"Annual report 2023", "Annual report 2024", true},
		// "May" is a month beside a number, a word elsewhere.
		{"Newsletter May 2017", "Newsletter June 2017", true},
		{"Newsletter April 2017", "Newsletter May 2017", true},
		{"5 May: Kafala mission", "Kafala mission, May 2017", false},
		{"Workshop on 9 May 2017", "Workshop on 10 May 2017", false},
		{"Newsletter 9 May", "Newsletter 9 June", true},
		{"ISS may open an office in 2025", "ISS may open an office in Geneva", false},
		{"Newsletter No. 12", "Newsletter No. 012", false},
		{"ISS launches kafala guidelines", "05/03/2024: ISS launches kafala guidelines", false},
		// Each member dates its copy: the same date written two ways, or two days.
		{"05/03/2024 – ISS launches kafala guidelines", "ISS launches kafala guidelines (5 March 2024)", false},
		{"05.03.2024: ISS launches kafala guidelines", "07.03.2024: ISS launches kafala guidelines", false},
		{"2024-03-05 Kafala guidelines", "5 mars 2024 : kafala guidelines", false},
		// Folded and full-width titles.
		{"ΕΝΗΜΕΡΩΤΙΚΟ ΔΕΛΤΙΟ ΜΑΪΟΥ 2024", "Ενημερωτικό δελτίο Ιουνίου 2024", true},
		{"ニュースレター２０２４年３月号", "ニュースレター 2024年4月号", true},
		{"Newsletter 03/2024", "Newsletter 04/2024", true},
		{"Webinar on mediation", "Webinar on kinship care", false}, // no marks: words decide
	} {
		if got := MarksDiffer(TitleMarks(c.a), TitleMarks(c.b)); got != c.differ {
			t.Errorf("MarksDiffer(%q, %q) = %v, want %v", c.a, c.b, got, c.differ)
		}
	}
}
