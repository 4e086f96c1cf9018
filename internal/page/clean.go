package page

import (
	"math"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// cloakTexts are the sentences Joomla's e-mail cloaking leaves in a page's text, in the network's languages.
var cloakTexts = []string{
	"This email address is being protected from spambots. You need JavaScript enabled to view it.",
	"This e-mail address is being protected from spambots. You need JavaScript enabled to view it.",
	"Cette adresse e-mail est protégée contre les robots spammeurs. Vous devez activer le JavaScript pour la visualiser.",
	"Cette adresse email est protégée contre les robots des spammeurs, vous devez activer Javascript pour la voir.",
	"Cette adresse e-mail est protégée contre les robots spammeurs. Vous devez activer JavaScript pour la visualiser.",
	"Esta dirección de correo electrónico está siendo protegida contra los robots de spam. Necesita tener JavaScript habilitado para poder verlo.",
	"Esta dirección de correo electrónico está protegida contra spambots. Usted necesita tener Javascript activado para poder verla.",
	"Diese E-Mail-Adresse ist vor Spambots geschützt! Zur Anzeige muss JavaScript eingeschaltet sein!",
	"Diese E-Mail-Adresse ist vor Spambots geschützt! Zur Anzeige muss JavaScript eingeschaltet sein.",
	"Diese E-Mail-Adresse ist gegen Spambots geschützt! Sie müssen JavaScript aktivieren, damit Sie sie sehen können.",
}

// readMoreTexts are link texts that lead to the full article and say nothing about it.
var readMoreTexts = []string{
	"read more", "read the full story", "read full article", "continue reading", "click here for more",
	"more info", "learn more", "lire la suite", "en savoir plus", "lire plus", "leer más", "leer mas", "seguir leyendo",
	"ver más", "weiterlesen", "mehr lesen", "mehr erfahren", "lees meer", "lees verder", "czytaj więcej", "czytaj dalej",
	"прочети още", "прочетете още", "виж повече", "διαβάστε περισσότερα", "δείτε περισσότερα", "קרא עוד", "המשך קריאה", "続きを読む", "もっと見る",
	"阅读更多", "查看详情", "leia mais", "saiba mais", "citește mai mult", "citeste mai mult", "citește mai departe",
}

var (
	rxCloak    = phraseRegexp(cloakTexts, false)
	rxReadMore = phraseRegexp(readMoreTexts, true)
	// rxReadMoreLabel is a link text that starts with a read-more phrase and a colon
	// (Joomla's "Read more: Title").
	rxReadMoreLabel = readMoreLabelRegexp(readMoreTexts)
)

func readMoreLabelRegexp(phrases []string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)^\s*(?:` + strings.Join(phraseAlts(phrases), "|") + `)\s*[:：]`)
}

// phraseAlts writes each phrase as a regexp matching it with any run of white space
// between its words.
func phraseAlts(phrases []string) []string {
	alts := make([]string, len(phrases))
	for i, p := range phrases {
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		alts[i] = strings.Join(words, `\s+`)
	}
	return alts
}

// phraseRegexp matches any of the phrases case-insensitively, with any run of white space between words.
// Read-more phrases also take a trailing arrow, ellipsis or colon, and must stand as whole words.
func phraseRegexp(phrases []string, readMore bool) *regexp.Regexp {
	alts := phraseAlts(phrases)
	for i := range alts {
		if !readMore {
			// Joomla 1.5 wrote the cloaking sentence without its final full stop ("… to view it").
			alts[i] = strings.TrimSuffix(strings.TrimSuffix(alts[i], `\.`), `!`) + `[.!]?`
		}
	}
	expr := `(?i)(?:` + strings.Join(alts, "|") + `)`
	if readMore {
		// A run of them at once ("Read more Read more"), so that one pass drops it.
		expr = `(?i)(?:^|[\s(\[])(?:(?:` + strings.Join(alts, "|") + `)\s*(?:\.\.\.|…|»|›|→|>>|>|:)?\s*)+(?:[)\]]|$)`
	}
	return regexp.MustCompile(expr)
}

// CleanText turns page text (or an HTML fragment) into plain text: scripts and styles are dropped, the
// e-mail cloaking sentences of Joomla (English, French, Spanish, German) and "Read more"-style link texts
// are removed, and white space is collapsed.
func CleanText(s string) string {
	if strings.ContainsRune(s, '<') {
		s = htmlText(s)
	}
	s = rxCloak.ReplaceAllString(s, " ")
	s = collapse(s)
	// Read-more texts are only dropped where they stand alone: at the end, or as a whole line.
	// A pass drops a trailing run ("Read more Read more") whole; the passes are bounded all
	// the same: when a pass dropped one of a run, a text of n "read more"s took n passes over
	// the whole text (20 KB of them: 11 s of CPU).
	for range maxReadMorePasses {
		t := rxReadMore.ReplaceAllString(s, " ")
		t = collapse(t)
		if t == s {
			break
		}
		s = t
	}
	return s
}

// maxReadMorePasses bounds CleanText's read-more passes.
const maxReadMorePasses = 4

// htmlText returns the text of an HTML fragment without scripts, styles and other non-text elements.
func htmlText(s string) string {
	nodes, err := html.ParseFragment(strings.NewReader(s), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return s
	}
	var b strings.Builder
	for _, n := range nodes {
		nodeText(&b, n, math.MaxInt)
	}
	return b.String()
}

// cloakedMail reports whether n is the placeholder of an e-mail address Joomla's cloaking
// hides from robots: a span "cloak<hash>" (Joomla 1.6 to 3, filled by the script after it) or
// a <joomla-hidden-mail> (Joomla 4 and 5). Its text is the sentence "This email address is
// being protected from spambots…" in the site's language; cloakTexts only knows some
// languages of it, and the Greek, Bulgarian, Hebrew, Japanese or Chinese sentence ended up in
// summaries. The address itself is only in the script, so nothing of the item's is lost.
func cloakedMail(n *html.Node) bool {
	if n.Data == "joomla-hidden-mail" {
		return true
	}
	if n.Data != "span" {
		return false
	}
	id := attr(n, "id")
	return len(id) > len("cloak") && strings.HasPrefix(id, "cloak")
}

// skipText are elements whose content is never item text.
var skipText = map[string]bool{"script": true, "style": true, "noscript": true, "template": true, "svg": true, "iframe": true, "head": true, "button": true, "select": true}

// blockElems get a space around their text so that words of adjacent blocks do not run together.
var blockElems = map[string]bool{
	"p": true, "div": true, "br": true, "li": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"td": true, "th": true, "tr": true, "article": true, "section": true, "header": true, "footer": true, "figcaption": true,
	"figure": true, "dd": true, "dt": true, "blockquote": true, "ul": true, "ol": true, "time": true, "span": false,
}

// nodeText appends the text under n to b, a space around each block's; it stops, and
// reports false, once b holds more than max bytes (math.MaxInt: all of it).
func nodeText(b *strings.Builder, n *html.Node, max int) bool {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
		return b.Len() <= max
	case html.ElementNode:
		if skipText[n.Data] || cloakedMail(n) {
			return true
		}
	case html.CommentNode:
		return true
	}
	block := n.Type == html.ElementNode && blockElems[n.Data]
	if block {
		b.WriteByte(' ')
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if !nodeText(b, c, max) {
			return false
		}
	}
	if block {
		b.WriteByte(' ')
	}
	return b.Len() <= max
}

// collapse trims s and folds every run of white space (including no-break spaces) into one space.
func collapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }), " ")
}

// summaryLen is the length a summary is cut to, at a word boundary.
const summaryLen = 300

// truncate cuts s at a word boundary near max runes and adds "…".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	cut := max
	for i := max; i > max*2/3; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	out := strings.TrimRightFunc(string(r[:cut]), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' })
	return out + "…"
}

// isReadMore reports whether a link text only says "read more".
func isReadMore(s string) bool {
	s = collapse(s)
	return s != "" && rxReadMore.ReplaceAllString(s, "") == ""
}
