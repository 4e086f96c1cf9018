package page

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// corpusNow is the fixed "now" of the corpus, for relative and year-less dates.
var corpusNow = time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)

// goldenPage is the expected reading of one page of testdata/pages.
type goldenPage struct {
	URL       string       `json:"url"`
	Languages []string     `json:"languages"`
	Note      string       `json:"note"`
	Items     []goldenItem `json:"items"`
}

type goldenItem struct {
	Title     string         `json:"title"`
	Link      string         `json:"link"`
	Published string         `json:"published,omitempty"`
	Precision news.Precision `json:"precision"`
}

type corpusPage struct {
	name   string
	html   []byte
	golden goldenPage
}

func loadCorpus(t testing.TB) []corpusPage {
	t.Helper()
	files, err := filepath.Glob("testdata/pages/*.html")
	if err != nil {
		t.Fatal(err)
	}
	var pages []corpusPage
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".html")
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(strings.TrimSuffix(f, ".html") + ".golden.json")
		if err != nil {
			t.Fatal(err)
		}
		var gp goldenPage
		if err := json.Unmarshal(g, &gp); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pages = append(pages, corpusPage{name, doc, gp})
	}
	return pages
}

func (p corpusPage) options() Options {
	return Options{Languages: p.golden.Languages, Now: corpusNow}
}

// dateMatches compares an item's date with the golden one.
func dateMatches(it news.Item, g goldenItem) bool {
	if g.Precision == news.PrecisionNone {
		return it.Precision == news.PrecisionNone
	}
	want, err := time.Parse(time.RFC3339, g.Published)
	if err != nil {
		return false
	}
	return it.Precision == g.Precision && it.Published.Equal(want)
}

// TestDetectionQuality runs Detect on every corpus page, matches items to the golden ones by link, and
// fails when precision or recall over the corpus falls below 0.9.
func TestDetectionQuality(t *testing.T) {
	pages := loadCorpus(t)
	if len(pages) < 25 {
		t.Fatalf("corpus has %d pages, want at least 25", len(pages))
	}
	var found, expected, correct, titles, dated, datesRight int
	tiers := map[string]int{}
	for _, p := range pages {
		d, err := Detect(p.html, p.golden.URL, p.options())
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
		tiers[d.Tier]++
		want := map[string]goldenItem{}
		for _, g := range p.golden.Items {
			want[g.Link] = g
		}
		hit := 0
		for _, it := range d.Items {
			g, ok := want[it.Link]
			if !ok {
				continue
			}
			hit++
			delete(want, it.Link) // a link found twice counts once
			if it.Title == g.Title {
				titles++
			} else {
				t.Logf("%s: title %q, want %q", p.name, it.Title, g.Title)
			}
			dated++
			if dateMatches(it, g) {
				datesRight++
			} else {
				t.Logf("%s: %s: date %v %q, want %s %q", p.name, it.Link, it.Published, it.Precision, g.Published, g.Precision)
			}
		}
		found += len(d.Items)
		expected += len(p.golden.Items)
		correct += hit
		if hit != len(d.Items) || hit != len(p.golden.Items) {
			t.Logf("%s (%s): found %d, expected %d, correct %d; selectors %s", p.name, d.Tier, len(d.Items), len(p.golden.Items), hit, d.Selectors.YAML())
			for _, it := range d.Items {
				t.Logf("   got  %q %s", it.Title, it.Link)
			}
			for l := range want {
				t.Logf("   miss %s", l)
			}
		}
	}
	precision := float64(correct) / float64(max(found, 1))
	recall := float64(correct) / float64(max(expected, 1))
	t.Logf("detection over %d pages: precision %.3f (%d/%d), recall %.3f (%d/%d); titles right %d/%d; dates right %d/%d; tiers %v",
		len(pages), precision, correct, found, recall, correct, expected, titles, correct, datesRight, dated, tiers)
	if precision < 0.9 || recall < 0.9 {
		t.Errorf("detection precision %.3f, recall %.3f: want both >= 0.9", precision, recall)
	}
	if correct > 0 && float64(datesRight)/float64(dated) < 0.8 {
		t.Errorf("dates right for %d of %d matched items, want >= 80%%", datesRight, dated)
	}
}

// A wrong date is worse than none: every item detected on a corpus page has its golden
// date, or none where the golden has none (TestDetectionQuality allows a few misses).
func TestDetectedDatesExact(t *testing.T) {
	for _, p := range loadCorpus(t) {
		d, err := Detect(p.html, p.golden.URL, p.options())
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		want := map[string]goldenItem{}
		for _, g := range p.golden.Items {
			want[g.Link] = g
		}
		for _, it := range d.Items {
			if g, ok := want[it.Link]; ok && !dateMatches(it, g) {
				t.Errorf("%s: %s: date %v %q, want %s %q", p.name, it.Link, it.Published, it.Precision, g.Published, g.Precision)
			}
		}
	}
}

// Detected items' summaries hold neither the item's date label, nor a read-more link (with
// the title a theme adds to it for screen readers, or after a colon), nor a byline or a
// hit counter, and a Joomla blog's intro text (no itemprop) is its items' summary.
func TestDetectedSummaries(t *testing.T) {
	pages := map[string]corpusPage{}
	for _, p := range loadCorpus(t) {
		pages[p.name] = p
	}
	for _, c := range []struct{ page, want string }{
		{"custom-bilingual-fr-en", ""},
		{"drupal7-views-el", ""},
		{"custom-zh-list", ""},
		{"joomla3-category-list-es", ""},
		{"joomla3-iss-gs-2018", `Join a day-long conference, "Cross-Border Family Mediation: Dispute Resolution for International Families In Your Community," on June 5, 2018 in Washington, D.C., co-hosted by International Social Service-USA (ISS-USA), MK Family Law, The George Washington University School of Law.`},
		{"joomla3-blog-bg", "Международната социална служба – България организира международна конференция за трансграничната семейна медиация в София."},
		{"wp-twentyseventeen-pl", "Międzynarodowa Służba Socjalna zaprasza na konferencję poświęconą mediacji rodzinnej w sprawach transgranicznych."},
		{"wp-classic-es", "El Servicio Social Internacional Argentina informa sobre taller sobre restitución internacional de niños."},
		{"wp-divi-de", "Am 3. März trafen sich Fachkräfte aus Jugendämtern und Gerichten zur Fachtagung über grenzüberschreitende Fälle im Kinderschutz."},
	} {
		p, ok := pages[c.page]
		if !ok {
			t.Fatalf("no corpus page %s", c.page)
		}
		d, err := Detect(p.html, p.golden.URL, p.options())
		if err != nil || len(d.Items) == 0 {
			t.Fatalf("%s: %d items, %v", c.page, len(d.Items), err)
		}
		if got := d.Items[0].Summary; got != c.want {
			t.Errorf("%s: first summary %q, want %q", c.page, got, c.want)
		}
	}
}
