package identity

import (
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
	if strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "./-") {
		s = rxNumericDate.ReplaceAllString(s, " $3$4 ")
	}
	// Tokens: runs of ASCII digits and runs of other letters (and digits of other
	// scripts), at most 64 (a title is short).
	var buf [64]string
	toks := buf[:0]
	start, digits := -1, false
	end := func(i int) {
		if start >= 0 && len(toks) < len(buf) {
			toks = append(toks, s[start:i])
		}
		start = -1
	}
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		d := r >= '0' && r <= '9'
		if !word || d != digits {
			end(i)
		}
		if word && start < 0 {
			start, digits = i, d
		}
	}
	end(len(s))
	var m uint64
	for i, tok := range toks {
		if mo, ok := monthAt(toks, i); ok {
			m |= markBit('m', mo)
			continue
		}
		if !isDigit(tok[0]) {
			continue
		}
		n := strings.TrimLeft(tok, "0")
		if len(n) <= 2 && (i > 0 && isMonth(toks, i-1) || i+1 < len(toks) && isMonth(toks, i+1)) {
			continue // the day of a named month
		}
		if n == "" {
			n = "0"
		}
		m |= markBit('n', n)
	}
	return m
}

// monthAt returns the month letter of toks[i] when it names a month: a month name, or
// a name that is also a common word (wordMonths) written beside a number ("May 2017",
// "5 May", "May 5").
func monthAt(toks []string, i int) (string, bool) {
	if mo, ok := months[toks[i]]; ok {
		return mo, true
	}
	mo, ok := wordMonths[toks[i]]
	if ok && (i > 0 && isDigit(toks[i-1][0]) || i+1 < len(toks) && isDigit(toks[i+1][0])) {
		return mo, true
	}
	return "", false
}

func isMonth(toks []string, i int) bool { _, ok := monthAt(toks, i); return ok }

// markBit is the bit of mark kind+tok: FNV-1a of both, modulo 64.
func markBit(kind byte, tok string) uint64 {
	h := uint32(2166136261)
	h = (h ^ uint32(kind)) * 16777619
	for i := 0; i < len(tok); i++ {
		h = (h ^ uint32(tok[i])) * 16777619
	}
	return 1 << (h % 64)
}

// rxNumericDate is a date in digits, day or month first ("05/03/2024", "5.3.24") or year
// first ("2024-03-05"); TitleMarks keeps its year (the third or fourth group).
var rxNumericDate = regexp.MustCompile(`\b(?:\d{1,2}[./-]\d{1,2}[./-](\d{4}|\d{2})|(\d{4})[./-]\d{1,2}[./-]\d{1,2})\b`)

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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// months maps month names of the network's languages (folded) to a letter for their
// number. Abbreviations are left out ("mar" and the like are words too), and so are
// names that are common words in titles: those are wordMonths.
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

// wordMonths are month names that are also common words ("ISS may ask…"): they name a
// month only beside a number (see monthAt). Without them "Newsletter May 2017" had no
// month, and was taken for the same story as "Newsletter June 2017".
var wordMonths = map[string]string{"may": "e"}
