package page

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

func TestCleanText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"cloak en", "Mia Dambach at This email address is being protected from spambots. You need JavaScript enabled to view it. and Tiziana", "Mia Dambach at and Tiziana"},
		{"cloak fr", "Écrivez à Cette adresse e-mail est protégée contre les robots spammeurs. Vous devez activer le JavaScript pour la visualiser. merci", "Écrivez à merci"},
		{"cloak es", "Contacto: Esta dirección de correo electrónico está siendo protegida contra los robots de spam. Necesita tener JavaScript habilitado para poder verlo.", "Contacto:"},
		{"cloak de", "Kontakt: Diese E-Mail-Adresse ist vor Spambots geschützt! Zur Anzeige muss JavaScript eingeschaltet sein! Danke", "Kontakt: Danke"},
		{"cloak in html with script", `<p>Mail <span id="cloak1">This email address is being protected from spambots. You need JavaScript enabled to view it.</span><script>document.getElementById('cloak1').innerHTML='';</script> now</p>`, "Mail now"},
		// Joomla 1.5 left the final full stop out; the span (Joomla 1.6–3) and <joomla-hidden-mail>
		// (Joomla 4–5) are dropped whatever the sentence's language.
		{"cloak joomla 1.5", "Contact <script>document.write('<span style=\\'display: none;\\'>');</script>This e-mail address is being protected from spambots. You need JavaScript enabled to view it\n <script>document.write('</span>');</script> or call", "Contact or call"},
		{"cloak span el", `<p>Πληροφορίες: <span id="cloak48213">Αυτή η διεύθυνση ηλεκτρονικού ταχυδρομείου προστατεύεται από τους αυτοματισμούς αποστολέων ανεπιθύμητων μηνυμάτων. Χρειάζεται να ενεργοποιήσετε τη JavaScript για να μπορέσετε να τη δείτε.</span><script>document.getElementById('cloak48213').innerHTML='';</script></p>`, "Πληροφορίες:"},
		{"cloak joomla 4 bg", `<p>Пишете ни на <joomla-hidden-mail is-link="1" is-email="1" first="aW5mbw==" last="aXNzLmJn" text="aW5mb0Bpc3MuYmc=" base="">Този имейл адрес е защитен от спам ботове. Трябва да имате активиран JavaScript, за да го видите.</joomla-hidden-mail> днес</p>`, "Пишете ни на днес"},
		{"read more", "The report is out. Read more", "The report is out."},
		{"read more arrow", "The report is out. Read more »", "The report is out."},
		{"lire la suite", "Le rapport est publié. Lire la suite…", "Le rapport est publié."},
		{"leer mas", "El informe. Leer más", "El informe."},
		{"weiterlesen", "Der Bericht. Weiterlesen", "Der Bericht."},
		{"click here for more", "ISS will continue to collaborate. Click here for more", "ISS will continue to collaborate."},
		{"read more inside a sentence stays", "Read more about our work in the report", "Read more about our work in the report"},
		{"styles and spaces", "<style>p{color:red}</style><p>A\u00a0 \n title</p>", "A title"},
		{"blocks do not glue", "<div>One</div><div>Two</div>", "One Two"},
		{"empty", "   ", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CleanText(c.in); got != c.want {
				t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("abcd ", 100)
	got := truncate(s, summaryLen)
	if !strings.HasSuffix(got, "…") || strings.HasSuffix(strings.TrimSuffix(got, "…"), " ") || len([]rune(got)) > summaryLen+1 {
		t.Errorf("truncate = %q", got)
	}
	if !strings.HasSuffix(strings.TrimSuffix(got, "…"), "abcd") {
		t.Errorf("not cut at a word boundary: %q", got)
	}
	if got := truncate("short", summaryLen); got != "short" {
		t.Errorf("truncate(short) = %q", got)
	}
}

func TestDiscoverFeeds(t *testing.T) {
	cases := []struct {
		page string
		want []FeedLink
	}{
		{"wp-twentytwentyone-en", []FeedLink{
			{URL: "https://www.iss-usa.org/feed/", Type: "rss", Title: "ISS-USA » Feed"},
			{URL: "https://www.iss-usa.org/category/news/feed/", Type: "rss", Title: "ISS-USA » News Category Feed"},
			{URL: "https://www.iss-usa.org/comments/feed/", Type: "rss", Title: "ISS-USA » Comments Feed"},
		}},
		{"joomla3-iss-gs-2019", []FeedLink{
			{URL: "https://www.iss-ssi.org/index.php/en/news?format=feed&type=rss", Type: "rss", Title: "RSS 2.0"},
			{URL: "https://www.iss-ssi.org/index.php/en/news?format=feed&type=atom", Type: "atom", Title: "Atom 1.0"},
		}},
		{"hentry-pt", []FeedLink{
			{URL: "https://www.iss-portugal.pt/noticias/feed.json", Type: "json", Title: "JSON Feed"},
			{URL: "https://www.iss-portugal.pt/noticias/atom.xml", Type: "atom"},
		}},
		{"drupal8-views-en", []FeedLink{{URL: "https://www.iss.org.au/news/rss.xml", Type: "rss", Title: "News"}}},
		{"custom-he-rtl", nil},
	}
	pages := map[string]corpusPage{}
	for _, p := range loadCorpus(t) {
		pages[p.name] = p
	}
	for _, c := range cases {
		t.Run(c.page, func(t *testing.T) {
			p := pages[c.page]
			got := DiscoverFeeds(p.html, p.golden.URL)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("DiscoverFeeds = %+v\nwant %+v", got, c.want)
			}
		})
	}
	t.Run("relative against base", func(t *testing.T) {
		doc := `<head><base href="https://cdn.example.org/site/"><link rel="alternate feed" type="application/atom+xml; charset=utf-8" href="atom.xml"><link rel="alternate" type="application/json+oembed" href="/oembed"></head>`
		got := DiscoverFeeds([]byte(doc), "https://example.org/news")
		want := []FeedLink{{URL: "https://cdn.example.org/site/atom.xml", Type: "atom"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DiscoverFeeds = %+v, want %+v", got, want)
		}
	})
}

func TestCMSFeedCandidates(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"https://www.iss-ssi.org/index.php/en/news", []string{
			"https://www.iss-ssi.org/index.php/en/news?format=feed&type=rss",
			"https://www.iss-ssi.org/index.php/en/news?format=feed&type=atom",
			"https://www.iss-ssi.org/index.php/en/news/feed/",
			"https://www.iss-ssi.org/feed/",
			"https://www.iss-ssi.org/rss.xml",
		}},
		{"https://example.org/", []string{
			"https://example.org/?format=feed&type=rss",
			"https://example.org/?format=feed&type=atom",
			"https://example.org/feed/",
			"https://example.org/rss.xml",
		}},
		{"https://example.org/news?Itemid=12#top", []string{
			"https://example.org/news?Itemid=12&format=feed&type=rss",
			"https://example.org/news?Itemid=12&format=feed&type=atom",
			"https://example.org/news/feed/",
			"https://example.org/feed/",
			"https://example.org/rss.xml",
		}},
		{"not a url", nil},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := CMSFeedCandidates(c.in); !reflect.DeepEqual(got, c.want) {
				t.Errorf("CMSFeedCandidates(%q) =\n%q\nwant\n%q", c.in, got, c.want)
			}
		})
	}
}

func TestEnrich(t *testing.T) {
	cases := []struct {
		file string
		want Enrichment
	}{
		{"wordpress.html", Enrichment{Published: time.Date(2021, 3, 3, 14, 5, 0, 0, time.UTC), Precision: news.PrecisionExact,
			Summary: "Join our caseworkers for an hour-long webinar on cross-border child welfare cases.",
			Image:   "https://example.org/wp-content/uploads/2021/03/webinar.jpg", Language: "en-US"}},
		{"jsonld.html", Enrichment{Published: time.Date(2018, 6, 5, 0, 0, 0, 0, time.UTC), Precision: news.PrecisionDay,
			Summary: "Une permanence juridique est ouverte aux parents.", Image: "https://www.ssi-belgique.be/img/permanence.jpg", Language: "fr-BE"}},
		{"plain.html", Enrichment{Published: time.Date(2017, 5, 1, 0, 0, 0, 0, time.UTC), Precision: news.PrecisionMonth,
			Summary: "Kafala evaluation mission.", Language: "fr-FR"}},
		{"empty.html", Enrichment{Precision: news.PrecisionNone}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", "articles", c.file))
			if err != nil {
				t.Fatal(err)
			}
			got := Enrich(doc, "https://example.org/article", Options{Languages: []string{"en"}})
			if !got.Published.Equal(c.want.Published) || got.Precision != c.want.Precision || got.Summary != c.want.Summary || got.Image != c.want.Image || got.Language != c.want.Language {
				t.Errorf("Enrich = %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestDetectLanguage(t *testing.T) {
	cases := []struct{ text, want string }{
		{"The International Social Service network protects children and families separated by borders.", "en"},
		{"Le Service Social International protège les enfants et les familles séparés par des frontières.", "fr"},
		{"Der Internationale Sozialdienst schützt Kinder und Familien, die durch Grenzen getrennt sind.", "de"},
		{"Международната социална служба защитава децата и семействата, разделени от граници.", "bg"},
		{"国際社会事業団は国境によって引き離された子どもと家族を守ります。", "ja"},
		{"國際社會服務社保護被邊界分隔的兒童和家庭。", "zh"},
		{"short", ""},
	}
	for _, c := range cases {
		if got := detectLanguage(c.text, []string{"en"}); got != c.want {
			t.Errorf("detectLanguage(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestDetectNoList(t *testing.T) {
	doc := []byte(`<html><body><nav><ul><li><a href="/a">About our organisation</a></li><li><a href="/b">Contact our office</a></li><li><a href="/c">Donate to the network</a></li></ul></nav><main><h1>Welcome</h1><p>Nothing here yet.</p></main></body></html>`)
	if _, err := Detect(doc, "https://example.org/", Options{}); err == nil || !strings.Contains(err.Error(), ErrNoMatch.Error()) {
		t.Errorf("Detect on a page without news: err = %v, want ErrNoMatch", err)
	}
}

// An article page's title, for an item its list left untitled (a read-more link alone).
func TestEnrichTitle(t *testing.T) {
	cases := []struct{ name, head, body, want string }{
		{"og:title first", `<meta property="og:title" content="Kafala evaluation mission in Morocco"><title>Kafala – ISS</title>`, `<h1>ISS</h1>`, "Kafala evaluation mission in Morocco"},
		{"twitter:title", `<meta name="twitter:title" content="Mediation in Biel"><title>News – ISS</title>`, ``, "Mediation in Biel"},
		{"heading", `<title>News – ISS</title>`, `<article><h1>PAC meets in <em>Athens</em></h1></article>`, "PAC meets in Athens"},
		{"title element", `<title>Work with us! </title>`, `<p>Text.</p>`, "Work with us!"},
		{"none", ``, `<p>Text.</p>`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := []byte(`<!doctype html><html lang="en"><head>` + c.head + `</head><body>` + c.body + `</body></html>`)
			if got := Enrich(doc, "https://example.org/article", Options{Languages: []string{"en"}}).Title; got != c.want {
				t.Errorf("title %q, want %q", got, c.want)
			}
		})
	}
}
