package identity

import (
	"hash/fnv"
	"regexp"
	"strings"
	"unicode"
)

// Titles of a series. A newsletter, a webinar or a report comes back every month or
// year with the same boilerplate, and two issues' titles and summaries share most of
// their words: "Newsletter March 2024" and "Newsletter April 2024" were 0.75 similar, far
// above Threshold, and the April issue of one member was shown as a copy of another's
// March one. What tells issues apart is in their titles: the numbers (years, issue
// numbers, days) and month names. TitleMarks keeps those, and two items whose titles
// each have a mark the other lacks are not the same story, however alike their words
// (MarksDiffer). A copy that adds marks of its own (a date before the title) is not kept
// apart: only marks on both sides that disagree count.

// TitleMarks returns a set of the numbers and month names of title, as bits of a word (a
// hash of each mark picks its bit; 0: none). Titles are folded (case, accents) and
// full-width digits read as digits. A whole date counts by its year alone when written in
// digits ("05.03.2024"), by its month and year when the month is named ("5 March 2024"):
// members date their copies of a story as they please, each with its own day.
func TitleMarks(title string) uint64 {
	s := Fold(strings.Map(asciiDigit, title))
	s = rxNumericDate.ReplaceAllString(s, " $3$4 ")
	var toks []string
	for _, run := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		toks = append(toks, splitDigits(run)...)
	}
	var m uint64
	mark := func(tok string) {
		h := fnv.New32a()
		h.Write([]byte(tok))
		m |= 1 << (h.Sum32() % 64)
	}
	named := func(i int) bool { _, ok := months[tokAt(toks, i)]; return ok }
	for i, tok := range toks {
		if mo, ok := months[tok]; ok {
			mark("m" + mo)
			continue
		}
		if !isDigit(tok[0]) {
			continue
		}
		n := strings.TrimLeft(tok, "0")
		if len(n) <= 2 && (named(i-1) || named(i+1)) {
			continue // the day of a named month
		}
		if n == "" {
			n = "0"
		}
		mark("n" + n)
	}
	return m
}

// rxNumericDate is a date in digits, day or month first ("05/03/2024", "5.3.24") or year
// first ("2024-03-05"); TitleMarks keeps its year (the third or fourth group).
var rxNumericDate = regexp.MustCompile(`\b(?:\d{1,2}[./-]\d{1,2}[./-](\d{4}|\d{2})|(\d{4})[./-]\d{1,2}[./-]\d{1,2})\b`)

func tokAt(toks []string, i int) string {
	if i < 0 || i >= len(toks) {
		return ""
	}
	return toks[i]
}

// asciiDigit maps full-width digits ("２０２４") to ASCII ones.
func asciiDigit(r rune) rune {
	if r >= '０' && r <= '９' {
		return '0' + (r - '０')
	}
	return r
}

// MarksDiffer reports whether each of two titles' marks (TitleMarks) holds one the other
// lacks: then they are two issues of a series, not one story.
func MarksDiffer(a, b uint64) bool { return a&^b != 0 && b&^a != 0 }

// splitDigits splits a run of letters and digits into runs of ASCII digits and runs of
// anything else ("3月" into "3" and "月", "no12" into "no" and "12").
func splitDigits(s string) []string {
	var out []string
	start := 0
	for i := 1; i <= len(s); i++ {
		if i == len(s) || isDigit(s[i]) != isDigit(s[start]) {
			out = append(out, s[start:i])
			start = i
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// months maps month names of the network's languages (folded) to a letter for their
// number. Abbreviations are left out, and so are names that are common words in
// titles ("may", Spanish "marca"): "mar" and the like are words too.
var months = func() map[string]string {
	names := [][]string{
		{"january", "janvier", "enero", "januar", "januari", "gennaio", "janeiro", "ιανουαρίου", "ιανουάριος", "януари", "styczeń", "stycznia"},
		{"february", "février", "fevrier", "febrero", "februar", "februari", "febbraio", "fevereiro", "φεβρουαρίου", "φεβρουάριος", "февруари", "luty", "lutego"},
		{"march", "mars", "marzo", "märz", "maart", "março", "μαρτίου", "μάρτιος", "март", "marzec"},
		{"april", "avril", "abril", "aprile", "απριλίου", "απρίλιος", "април", "kwiecień", "kwietnia"},
		{"mai", "mayo", "mei", "maggio", "maio", "μαΐου", "μάιος", "май", "maj", "maja"},
		{"june", "juin", "junio", "juni", "giugno", "junho", "ιουνίου", "ιούνιος", "юни", "czerwiec", "czerwca"},
		{"july", "juillet", "julio", "juli", "luglio", "julho", "ιουλίου", "ιούλιος", "юли", "lipiec", "lipca"},
		{"august", "août", "aout", "agosto", "augustus", "αυγούστου", "αύγουστος", "август", "sierpień", "sierpnia"},
		{"september", "septembre", "septiembre", "settembre", "setembro", "σεπτεμβρίου", "σεπτέμβριος", "септември", "wrzesień", "września"},
		{"october", "octobre", "octubre", "oktober", "ottobre", "outubro", "οκτωβρίου", "οκτώβριος", "октомври", "październik", "października"},
		{"november", "novembre", "noviembre", "novembro", "νοεμβρίου", "νοέμβριος", "ноември", "listopad", "listopada"},
		{"december", "décembre", "decembre", "diciembre", "dezember", "dicembre", "dezembro", "δεκεμβρίου", "δεκέμβριος", "декември", "grudzień", "grudnia"},
	}
	m := map[string]string{}
	for i, ns := range names {
		for _, n := range ns {
			m[Fold(n)] = string(rune('a' + i))
		}
	}
	return m
}()
