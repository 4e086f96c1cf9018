package clean

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iss-network/networkfeed/internal/news"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}

// unescapeAll undoes HTML escaping until the string stops changing, so that
// entity-encoded leftovers cannot hide from the checks.
func unescapeAll(s string) string {
	for i := 0; i < 5; i++ {
		u := html.UnescapeString(s)
		if u == s {
			break
		}
		s = u
	}
	return s
}

var (
	handlerRe   = regexp.MustCompile(`(?i)[\s/"'\x60]on[a-z]+\s*=`)
	forbiddenRe = regexp.MustCompile(`(?i)<script|javascript:|vbscript:|data:text`)
	// squeeze removes what browsers ignore inside a URL scheme.
	squeeze = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\x00", "")
)

func readXSS(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "xss.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vectors []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "# ") {
			continue
		}
		vectors = append(vectors, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vectors
}

func TestHTMLXSS(t *testing.T) {
	c := New()
	base := mustURL(t, "https://iss.example.org/news/")
	vectors := readXSS(t)
	if len(vectors) < 50 {
		t.Fatalf("xss corpus has %d vectors, want at least 50", len(vectors))
	}
	for i, v := range vectors {
		t.Run(fmt.Sprintf("%03d", i+1), func(t *testing.T) {
			out := c.HTML(v, base)
			check := squeeze.Replace(unescapeAll(out))
			if m := forbiddenRe.FindString(check); m != "" {
				t.Errorf("input  %s\noutput %s\nkeeps %q", v, out, m)
			}
			if m := handlerRe.FindString(check); m != "" {
				t.Errorf("input  %s\noutput %s\nkeeps handler %q", v, out, m)
			}
			for _, tag := range []string{"<iframe", "<object", "<embed", "<form", "<style", "<base", "<meta", "<link", "<svg", "<math", "<input"} {
				if strings.Contains(strings.ToLower(out), tag) {
					t.Errorf("input  %s\noutput %s\nkeeps %s", v, out, tag)
				}
			}
			if strings.Contains(strings.ToLower(out), "expression(") || strings.Contains(strings.ToLower(out), "style=") {
				t.Errorf("input  %s\noutput %s\nkeeps a style", v, out)
			}
		})
	}
}

func TestHTML(t *testing.T) {
	c := New()
	base := mustURL(t, "https://iss.example.org/news/2024/")
	tests := []struct {
		name, in, want string
		base           *url.URL
	}{
		{"relative link", `<a href="report.pdf">report</a>`,
			`<a href="https://iss.example.org/news/2024/report.pdf" rel="nofollow noopener">report</a>`, base},
		{"root-relative image", `<img src="/img/a.jpg" alt="Children &amp; families">`,
			`<img src="https://iss.example.org/img/a.jpg" alt="Children &amp; families"/>`, base},
		{"open elements closed", `<div><p>a <b>b <i>c</div><table><td>x`,
			`<div><p>a <b>b <i>c</i></b></p></div><table><tbody><tr><td>x</td></tr></tbody></table>`, base},
		{"text escaped", `<p>1 &lt; 2 &amp; "q"</p>`, `<p>1 &lt; 2 &amp; &#34;q&#34;</p>`, base},
		{"protocol-relative", `<a href="//cdn.example.net/x">x</a>`,
			`<a href="https://cdn.example.net/x" rel="nofollow noopener">x</a>`, base},
		{"existing rel and target replaced", `<a href="http://a.example/" rel="opener" target="_self">a</a>`,
			`<a href="http://a.example/" rel="nofollow noopener">a</a>`, base},
		{"mailto kept", `<a href="mailto:info@iss.example.org">mail</a>`,
			`<a href="mailto:info@iss.example.org" rel="nofollow noopener">mail</a>`, base},
		{"data image dropped", `<p>a<img src="data:image/png;base64,iVBORw0KGgo=">b</p>`, `<p>a b</p>`, base},
		{"no base drops relative image", `<p><img src="a.png">x</p>`, `<p>x</p>`, nil},
		{"no base keeps absolute link", `<a href="https://x.example/a?b=1&amp;c=2">x</a>`,
			`<a href="https://x.example/a?b=1&amp;c=2" rel="nofollow noopener">x</a>`, nil},
		{"structure kept", `<h2>T</h2><p dir="rtl" lang="he">שלום <strong>x</strong></p><ul><li>1</li></ul>`,
			`<h2>T</h2><p dir="rtl" lang="he">שלום <strong>x</strong></p><ul><li>1</li></ul>`, base},
		{"script dropped with content", `<p>a</p><script>alert(1)</script><p>b</p>`, `<p>a</p><p>b</p>`, base},
		{"blockquote cite absolute", `<blockquote cite="/src">q</blockquote>`,
			`<blockquote cite="https://iss.example.org/src">q</blockquote>`, base},
		{"empty", "  \n", "", base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.HTML(tt.in, tt.base); got != tt.want {
				t.Errorf("HTML(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestAbsURL(t *testing.T) {
	base := mustURL(t, "https://iss.example.org/a/b")
	tests := []struct {
		base      *url.URL
		ref, want string
	}{
		{base, "c", "https://iss.example.org/a/c"},
		{base, "../x?y=1#f", "https://iss.example.org/x?y=1#f"},
		{base, "HTTP://Other.example/", "http://Other.example/"},
		{base, "javascript:alert(1)", ""},
		{base, "mailto:a@b.example", ""},
		{base, "ftp://x.example/", ""},
		{base, "  ", ""},
		{base, "http://[::1", ""},
		{nil, "/relative", ""},
		{nil, "https://x.example/p", "https://x.example/p"},
		{nil, "https:///nohost", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			if got := AbsURL(tt.base, tt.ref); got != tt.want {
				t.Errorf("AbsURL(%v, %q) = %q, want %q", tt.base, tt.ref, got, tt.want)
			}
		})
	}
}

func TestTitle(t *testing.T) {
	long := strings.Repeat("word ", 100)
	tests := []struct{ name, in, want string }{
		{"tags", "<b>Hello</b> <i>world</i>", "Hello world"},
		{"entities", "Tom &amp; Jerry &quot;live&quot; &#8211; &#x263A;", `Tom & Jerry "live" – ☺`},
		{"double escaped", "Kids &amp;amp; families", "Kids & families"},
		{"escaped once, no entity", "Annual report: /report?year=2025&amp;region=africa", "Annual report: /report?year=2025&region=africa"},
		{"white space", "  a\n\t b  \u00a0 c ", "a b c"},
		{"less than", "5 < 6 and 7 > 3", "5 < 6 and 7 > 3"},
		{"script content dropped", "News<script>alert(1)</script> today", "News today"},
		{"br", "line<br>break", "line break"},
		{"hebrew", "<span>חדשות</span> &amp; עדכונים", "חדשות & עדכונים"},
		{"long", long, strings.Repeat("word ", 59) + "word…"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Title(tt.in)
			if got != tt.want {
				t.Errorf("Title(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > MaxTitle {
				t.Errorf("Title is %d runes, max %d", n, MaxTitle)
			}
		})
	}
}

func TestSummaryCut(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"short kept", "<p>Short text.</p>", 50, "Short text."},
		{"word boundary", "<p>The quick brown fox jumps</p>", 15, "The quick…"},
		{"exact fit", "abcde", 5, "abcde"},
		{"punctuation trimmed", "alpha beta, gamma delta", 13, "alpha beta…"},
		{"one long word", "Supercalifragilistic", 10, "Supercali…"},
		{"japanese rune cut", "国際社会事業団は活動報告書を公表しました", 8, "国際社会事業団…"},
		{"hebrew word cut", "השירות הסוציאלי הבינלאומי מסייע", 20, "השירות הסוציאלי…"},
		{"greek word cut", "Διεθνής Κοινωνική Υπηρεσία", 20, "Διεθνής Κοινωνική…"},
		{"blocks joined", "<p>one</p><p>two</p>", 50, "one two"},
		{"zero", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summary(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("Summary(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.max {
				t.Errorf("Summary is %d runes, max %d", n, tt.max)
			}
		})
	}
}

func TestText(t *testing.T) {
	in := "<div><h1>T</h1><p>a  <b>b</b>\n c</p><table><tr><td>x</td><td>y</td></tr></table><style>p{}</style>z<br>w</div>"
	want := "T\na b c\nx y\nz\nw"
	if got := Text(in); got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

// TestGolden renders Title, Summary, Text and Language of multilingual fragments and
// compares them with testdata/text/*.golden (go test -run TestGolden -update rewrites).
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "text", "*.html"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s := string(in)
			var b strings.Builder
			fmt.Fprintf(&b, "title: %s\n", Title(s))
			for _, n := range []int{40, 120} {
				sum := Summary(s, n)
				if utf8.RuneCountInString(sum) > n {
					t.Errorf("Summary(%d) too long: %q", n, sum)
				}
				fmt.Fprintf(&b, "summary%d: %s\n", n, sum)
			}
			fmt.Fprintf(&b, "language: %s\n", Language("", Text(s), "und"))
			fmt.Fprintf(&b, "text:\n%s\n", Text(s))
			golden := strings.TrimSuffix(f, ".html") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", golden, b.String(), want)
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		name, tagged, text, fallback, want string
	}{
		{"tag region", "en-US", "", "fr", "en"},
		{"tag underscore", "fr_FR", "", "en", "fr"},
		{"tag upper", "DE", "", "en", "de"},
		{"tag deprecated hebrew", "iw", "", "en", "he"},
		{"tag chinese script", "zh-Hant-TW", "", "en", "zh"},
		{"tag list", "es, en", "", "en", "es"},
		{"tag beats text", "pt-BR", "This is plainly an English sentence about children and families.", "en", "pt"},
		{"bad tag then text", "english", "International Social Service helps children and families separated by borders.", "xx", "en"},
		{"french text", "", "Le Service Social International aide les enfants et les familles séparés par les frontières.", "en", "fr"},
		{"spanish text", "", "El Servicio Social Internacional ayuda a los niños y a las familias separados por las fronteras.", "en", "es"},
		{"german text", "", "Der Internationale Sozialdienst unterstützt Kinder und Familien, die durch Grenzen getrennt sind.", "en", "de"},
		{"dutch text", "", "De Internationale Sociale Dienst helpt kinderen en gezinnen die door grenzen van elkaar gescheiden zijn.", "en", "nl"},
		{"polish text", "", "Międzynarodowa Służba Socjalna pomaga dzieciom i rodzinom rozdzielonym przez granice państw.", "en", "pl"},
		{"hebrew text", "", "השירות הסוציאלי הבינלאומי מסייע למשפחות ולילדים שנפרדו בעקבות הגירה או אימוץ.", "en", "he"},
		{"greek text", "", "Η Διεθνής Κοινωνική Υπηρεσία βοηθά παιδιά και οικογένειες που χωρίστηκαν από σύνορα.", "en", "el"},
		{"japanese text", "", "国際社会事業団は、国境を越えて離れ離れになった子どもと家族を支援しています。", "en", "ja"},
		{"chinese text", "", "国际社会服务社帮助因边境而分离的儿童和家庭，提供跨国个案工作服务。", "en", "zh"},
		{"bulgarian text", "", "Международната социална служба помага на деца и семейства, разделени от границите на държавите.", "en", "bg"},
		{"arabic text", "", "تساعد الخدمة الاجتماعية الدولية الأطفال والأسر الذين فرقتهم الحدود بين الدول المختلفة.", "en", "ar"},
		{"russian is not bulgarian", "", "Международная социальная служба помогает детям и семьям, которых разделили границы государств.", "fr", "fr"},
		{"too short", "", "Bonjour", "en", "en"},
		{"empty fallback", "", "", "", ""},
		{"fallback normalised", "", "", "es_ES", "es"},
		{"numbers only", "", "2024 2025 1234567 89 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25", "en", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Language(tt.tagged, tt.text, tt.fallback); got != tt.want {
				t.Errorf("Language(%q, %q, %q) = %q, want %q", tt.tagged, tt.text, tt.fallback, got, tt.want)
			}
		})
	}
}

func TestItem(t *testing.T) {
	c := New()
	base := mustURL(t, "https://iss.example.org/feed.xml")
	it := news.Item{
		Title:      "  <b>New</b> guidelines &amp;amp; tools ",
		Link:       "/news/guidelines?utm_source=x",
		Image:      "img/cover.jpg",
		Content:    `<p onclick="x()">Le Service Social International publie de nouvelles lignes directrices pour la protection des enfants.</p><script>alert(1)</script><a href="/doc.pdf">PDF</a>`,
		Author:     "<i>ISS</i> Secretariat",
		Categories: []string{" Child protection ", "child protection", "", "<b>Kafala</b>"},
		Enclosures: []news.Enclosure{{URL: "media/ep1.mp3", Type: " audio/mpeg ", Length: 12}, {URL: "javascript:alert(1)"},
			{URL: "https://iss.example.org/media/ep1.mp3"}, {URL: "/report.pdf", Type: "application/pdf"}},
	}
	c.Item(&it, base, "en")
	want := news.Item{
		Title:      "New guidelines & tools",
		Link:       "https://iss.example.org/news/guidelines?utm_source=x",
		Image:      "https://iss.example.org/img/cover.jpg",
		Content:    `<p>Le Service Social International publie de nouvelles lignes directrices pour la protection des enfants.</p><a href="https://iss.example.org/doc.pdf" rel="nofollow noopener">PDF</a>`,
		Summary:    "Le Service Social International publie de nouvelles lignes directrices pour la protection des enfants. PDF",
		Author:     "ISS Secretariat",
		Categories: []string{"Child protection", "Kafala"},
		Enclosures: []news.Enclosure{{URL: "https://iss.example.org/media/ep1.mp3", Type: "audio/mpeg", Length: 12},
			{URL: "https://iss.example.org/report.pdf", Type: "application/pdf"}},
		Language: "fr",
	}
	if fmt.Sprintf("%#v", it) != fmt.Sprintf("%#v", want) {
		t.Errorf("Item:\n got %#v\nwant %#v", it, want)
	}

	t.Run("summary from summary and tagged language", func(t *testing.T) {
		it := news.Item{Title: "x", Summary: "<p>" + strings.Repeat("mot ", 200) + "</p>", Language: "fr-CA"}
		c.Item(&it, nil, "en")
		if n := utf8.RuneCountInString(it.Summary); n > SummaryLength || !strings.HasSuffix(it.Summary, "…") {
			t.Errorf("summary %d runes %q", n, it.Summary)
		}
		if it.Language != "fr" {
			t.Errorf("language %q, want fr", it.Language)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	c := New()
	base := mustURL(t, "https://iss.example.org/")
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() { done <- c.HTML(`<a href="x" onclick="y">z</a>`, base) }()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != `<a href="https://iss.example.org/x" rel="nofollow noopener">z</a>` {
			t.Errorf("got %s", got)
		}
	}
}

func BenchmarkHTML(b *testing.B) {
	c := New()
	in, err := os.ReadFile(filepath.Join("testdata", "text", "he.html"))
	if err != nil {
		b.Fatal(err)
	}
	base, _ := url.Parse("https://iss.example.org/news/")
	b.ReportAllocs()
	for b.Loop() {
		c.HTML(string(in), base)
	}
}

// TestItemBounds: a member's site could send one item large enough to swell every feed
// that shows it (8 MB of content and 20,000 categories made the combined feed 9.8 MB):
// content past MaxContent is dropped (the summary made from it stays), categories past
// MaxCategories and URLs past MaxURL too.
func TestItemBounds(t *testing.T) {
	c := New()
	base := mustURL(t, "https://iss.example.org/feed.xml")
	var cats []string
	for i := range 20000 {
		cats = append(cats, fmt.Sprintf("tag %d", i))
	}
	long := "https://iss.example.org/a?x=" + strings.Repeat("y", MaxURL)
	it := news.Item{
		Title:      "Huge",
		Link:       long,
		Image:      long,
		Content:    strings.Repeat("<p>"+strings.Repeat("word ", 200)+"</p>", 8000),
		Categories: cats,
	}
	for i := range 1000 {
		it.Enclosures = append(it.Enclosures, news.Enclosure{URL: fmt.Sprintf("https://iss.example.org/%d.mp3", i)})
	}
	c.Item(&it, base, "en")
	if it.Content != "" {
		t.Errorf("content of %d bytes kept (MaxContent %d)", len(it.Content), MaxContent)
	}
	if len(it.Enclosures) != MaxEnclosures {
		t.Errorf("%d enclosures kept, want %d", len(it.Enclosures), MaxEnclosures)
	}
	if !strings.HasPrefix(it.Summary, "word word") {
		t.Errorf("summary %.40q, want the content's text", it.Summary)
	}
	if len(it.Categories) != MaxCategories || it.Categories[0] != "tag 0" {
		t.Errorf("%d categories kept, first %q; want the first %d", len(it.Categories), it.Categories[0], MaxCategories)
	}
	if it.Link != "" || it.Image != "" {
		t.Errorf("URLs of %d bytes kept: link %d, image %d bytes", len(long), len(it.Link), len(it.Image))
	}

	fits := news.Item{Title: "Long but fair", Link: "https://iss.example.org/a?x=" + strings.Repeat("y", 2000),
		Content: strings.Repeat("<p>"+strings.Repeat("word ", 200)+"</p>", 100)}
	want := fits.Link
	c.Item(&fits, base, "en")
	if fits.Content == "" || fits.Link != want {
		t.Errorf("an item within the bounds lost its content (%d bytes) or link (%d bytes)", len(fits.Content), len(fits.Link))
	}
}

// TestItemSummaryTwiceEscaped: a feed that escapes its HTML twice ("A&amp;amp;nbsp;b" in the
// XML, which the feed parser gives as "A&amp;nbsp;b") has its entities unescaped in the
// summary, as in the title, instead of showing "&nbsp;" and "&amp;" to every reader.
func TestItemSummaryTwiceEscaped(t *testing.T) {
	c := New()
	for _, tc := range []struct{ in, want string }{
		{"A&amp;nbsp;b &amp;amp; c&amp;#8217;s", "A b & c’s"},
		{"<p>Encoded &amp;hellip;</p><p>second&amp;nbsp;</p>", "Encoded … second"},
		{"AT&amp;T &amp; R&D", "AT&T & R&D"},
		// Escaped once, rightly: a URL's parameters are not entities ("&region" is no "®ion").
		{"<p>Report: https://e.org/r?id=3&amp;region=africa&amp;param=1&amp;section=2&amp;times=3</p>", "Report: https://e.org/r?id=3&region=africa&param=1&section=2&times=3"},
		{"Terms &amp;copy 2024, &amp;region;", "Terms &copy 2024, &region;"},
	} {
		it := news.Item{Title: "x", Summary: tc.in, Language: "en"}
		c.Item(&it, nil, "en")
		if it.Summary != tc.want {
			t.Errorf("summary of %q = %q, want %q", tc.in, it.Summary, tc.want)
		}
	}
	it := news.Item{Title: "x", Content: "<p>Content&amp;nbsp;only</p>", Language: "en"}
	c.Item(&it, nil, "en")
	if it.Summary != "Content only" {
		t.Errorf("summary from content = %q", it.Summary)
	}
}

// TestItemWithoutTitle: an item with no title (a social post through rss.app or RSS-Bridge,
// a JSON Feed note, an untitled Blogger post) takes its text's first line, cut to
// UntitledLength runes, rather than showing as an empty link; one that is only an image (an
// Instagram post through WordPress) takes its caption, else its alt text; one with neither
// keeps none.
func TestItemWithoutTitle(t *testing.T) {
	c := New()
	long := strings.Repeat("word ", 40)
	for _, tc := range []struct{ summary, content, want string }{
		{`<a href="https://www.instagram.com/p/C4abc/"><img src="https://e.org/2.jpg"></a><p>Team day at the beach 🌊 #teamISS</p><p>More</p>`, "", "Team day at the beach 🌊 #teamISS"},
		{"", "<p>A post without a title.</p>", "A post without a title."},
		{long, "", truncate(strings.TrimSpace(long), UntitledLength)},
		{`<img src="https://e.org/1.jpg">`, "", ""},
		{"", "", ""},
		// Only an image: its caption, else its alt text (it was untitled).
		{"", `<figure><img src="https://e.org/3.jpg" alt="Children at the summer camp"><figcaption>Summer camp 2026 in Geneva</figcaption></figure>`, "Summer camp 2026 in Geneva"},
		{"", `<p><a href="https://e.org/p"><img src="https://e.org/3.jpg" alt="Children &amp; families &lt;3 at the summer camp"></a></p>`, "Children & families <3 at the summer camp"},
		{`<img src="https://e.org/4.jpg" alt="  Kids
 at  play ">`, "", "Kids at play"},
		{`<img src="https://e.org/5.jpg" alt="IMG_2041.JPG"><img src="https://e.org/6.jpg" alt=""><img src="https://e.org/7.jpg" alt="Second picture">`, "", "Second picture"},
		{"", `<img src="https://e.org/8.jpg" alt="` + long + `">`, truncate(strings.TrimSpace(long), UntitledLength)},
	} {
		it := news.Item{Summary: tc.summary, Content: tc.content, Language: "en"}
		c.Item(&it, nil, "en")
		if it.Title != tc.want {
			t.Errorf("title from %.40q/%.40q = %q, want %q", tc.summary, tc.content, it.Title, tc.want)
		}
		if n := utf8.RuneCountInString(it.Title); n > UntitledLength {
			t.Errorf("title %d runes", n)
		}
	}
	it := news.Item{Title: "<b></b>", Summary: "text"} // a title that cleans to nothing
	c.Item(&it, nil, "en")
	if it.Title != "text" {
		t.Errorf("title of markup only = %q, want the text's", it.Title)
	}
}
