package identity

import (
	"hash/fnv"
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
// hash of each mark picks its bit; 0: none).
func TitleMarks(title string) uint64 {
	var m uint64
	mark := func(tok string) {
		h := fnv.New32a()
		h.Write([]byte(tok))
		m |= 1 << (h.Sum32() % 64)
	}
	runs := strings.FieldsFunc(strings.ToLower(title), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, run := range runs {
		for _, tok := range splitDigits(run) {
			if tok[0] >= '0' && tok[0] <= '9' {
				if n := strings.TrimLeft(tok, "0"); n != "" {
					tok = n
				} else {
					tok = "0"
				}
				mark("n" + tok)
			} else if mo, ok := months[tok]; ok {
				mark("m" + mo)
			}
		}
	}
	return m
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

// months maps month names of the network's languages that use them in titles to their
// number. Abbreviations are left out: "mar", "may" and the like are words too.
var months = func() map[string]string {
	names := [][]string{
		{"january", "janvier", "enero", "januar", "januari", "gennaio", "janeiro", "ιανουαρίου", "ιανουάριος", "януари", "styczeń", "stycznia"},
		{"february", "février", "fevrier", "febrero", "februar", "februari", "febbraio", "fevereiro", "φεβρουαρίου", "φεβρουάριος", "февруари", "luty", "lutego"},
		{"march", "mars", "marzo", "märz", "maart", "março", "μαρτίου", "μάρτιος", "март", "marzec", "marca"},
		{"april", "avril", "abril", "aprile", "απριλίου", "απρίλιος", "април", "kwiecień", "kwietnia"},
		{"may", "mai", "mayo", "mei", "maggio", "maio", "μαΐου", "μάιος", "май", "maj", "maja"},
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
			m[n] = string(rune('a' + i))
		}
	}
	return m
}()
