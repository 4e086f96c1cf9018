package page

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	dps "github.com/iss-network/networkfeed/internal/page/internal/dateparser"
	"github.com/iss-network/networkfeed/internal/page/internal/dateparser/date"

	"github.com/iss-network/networkfeed/internal/news"
)

// ParseDate reads a date written on a page: a date element's text ("5 juin 2018", "3. März 2019",
// "2019年3月5日", "May 2017", "2 days ago", ISO 8601) or running text holding one ("May 2017: ISS launched
// ..."). A range ("30 November to 1 December 2017", "sept.-oct. 2023") gives its start, a
// publication date beside an update date the publication date, and a Hebrew-calendar date
// its Gregorian day. Only the first maxParseLen characters of text are read. Parsing is
// restricted to o.Languages plus English. Day precision gives midnight in o.Location; month precision the 1st of the month, 00:00 UTC.
func ParseDate(text string, o Options) (time.Time, news.Precision, bool) {
	return newDateParser(o).parse(text)
}

// dateParser holds a go-dateparser configuration built once per Options.
type dateParser struct {
	p   *dps.Parser
	cfg *dps.Configuration
	loc *time.Location
	// order is the order ("DMY", "MDY", …) in which all-digit dates are read: that of
	// the member's locale (dateLocale).
	order string
	// searching is the time spent searching running text for dates (search) with this
	// parser, one per page; searches stops at searchBudget. searches and skipped count
	// the searches made and refused (for tests).
	searching         time.Duration
	searches, skipped int
	// read counts the runes of date text parse has rewritten and read (for tests).
	read int
}

// searchBudget bounds the time one page's date searches take. A search of running text
// costs go-dateparser 1–2 ms in the member's languages, but crafted text (say "-1" a
// hundred times) takes up to a third of a second, and a page tries up to nine texts for
// each of up to MaxItems items: minutes of CPU per poll, in a parsing slot. The corpus's
// pages spend at most a few milliseconds each (BenchmarkDetect: 5 ms a page in all); past
// the budget, items take the dates found in attributes and short date labels only.
var searchBudget = time.Second

func newDateParser(o Options) *dateParser {
	langs := make([]string, 0, len(o.Languages)+1)
	for _, l := range o.Languages {
		base := strings.ToLower(l)
		if i := strings.IndexAny(base, "-_"); i > 0 {
			base = base[:i]
		}
		if base == "" || slices.Contains(langs, base) || !dps.IsKnownLocale(base) {
			continue
		}
		langs = append(langs, base)
	}
	if !slices.Contains(langs, "en") {
		langs = append(langs, "en")
	}
	loc := o.location()
	return &dateParser{
		p:     &dps.Parser{},
		order: dmy(dateLocale(o.Languages, o.Country, langs[0])),
		cfg: &dps.Configuration{
			Languages:           langs,
			UseGivenOrder:       true,
			CurrentTime:         o.now().In(loc),
			DefaultTimezone:     loc,
			PreferredDayOfMonth: dps.First,
			PreferredDateSource: dps.Past,
			ReturnTimeAsPeriod:  true,
		},
		loc: loc,
	}
}

var (
	rxISO      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$`)
	rxYear     = regexp.MustCompile(`(^|\D)(1[89]|20)\d\d(\D|$)|\d年`)
	maxDateLen = 200
	// maxParseLen bounds the date text parse reads: its first maxParseLen runes, whitespace
	// collapsed, up to the last whole word (dateWords). A date label is a few dozen
	// characters, a byline with its date a few hundred; a longer text is no date label but
	// a date selector matching a whole listing or article (a redesign, a broken or hostile
	// page), and its date, if any, leads it. The search reads maxDateLen runes of it; twice
	// that leaves room for what the rewrites take out (a reading time, an issue number).
	// Unbounded, the rewrites before the search ran over all of it, outside searchBudget: a
	// 90 KB text took a quarter of a second per item (BenchmarkParseDateLongText).
	maxParseLen = 2 * maxDateLen
)

// dateWords is text with its whitespace collapsed, cut to its first maxParseLen runes
// at a word's end (a word longer than that is cut inside).
func dateWords(text string) string {
	var b strings.Builder
	n := 0
	for w := range strings.FieldsSeq(text) {
		k := utf8.RuneCountInString(w)
		if n > 0 {
			if n+1+k > maxParseLen {
				break
			}
			b.WriteByte(' ')
			n++
		} else if k > maxParseLen {
			i := 0
			for range maxParseLen {
				_, size := utf8.DecodeRuneInString(w[i:])
				i += size
			}
			w, k = w[:i], maxParseLen
		}
		b.WriteString(w)
		n += k
	}
	return b.String()
}

// Texts that a date element of a theme may hold beside or instead of a date, and that
// go-dateparser reads as one: a count of pages or items ("Page 2 of 10", "2 von 10": 10
// February; not when the total is a year, as in the Latin American "marzo 5 de 2024"),
// and a reading time ("5 min read", "3 Min. Lesezeit": today, a date invented), which
// is taken out of the text ("5 March 2024 · 5 min read" keeps its date).
var (
	rxNotDate     = regexp.MustCompile(`(?i)^\D{0,12}\b\d{1,4}\s*(?:of|von|sur|de|di|van|z|из|от|από)\s*(\d{1,4})$`)
	rxReadingTime = regexp.MustCompile(`(?i)\b(reading time|read time|read|lesezeit|temps de lecture|lecture|tiempo de lectura|lectura|leestijd|czas czytania|tempo de leitura|timp de citire)\s*:?\s*\d{1,3}\s*(minutes|minute|minuten|minutos|minuti|minut|minuty|mins|min)\b\.?` +
		`|\b\d{1,3}\s*(minutes|minute|minuten|minutos|minuti|minut|minuty|mins|min)\b\.?\s*(de |of |di )?(read|reading|lesezeit|lesedauer|lecture|de lecture|lectura|lettura|leestijd|czytania|leitura|citire)\b`)
)

// rxIssueNumber is the number of a newsletter's or a journal's issue or volume with its
// year ("Vol. 12, 2023", "No. 12, 2023", "Nr. 12/2023", "Ausgabe 3/2024", "N° 4/2023", a
// double issue "Ausgabe 1-2/2024"),
// which a date element may hold beside or instead of a date: go-dateparser read the
// number as a month (December 2023, March 2024). A year alone is no date (there is no
// year precision), so it is taken out of the text ("Nr. 3/2024 · 4. März 2024" keeps
// its date).
var rxIssueNumber = regexp.MustCompile(`(?i)(?:^|[^\pL\pN])(?:(?:vol|volume|issue|no|nr|n|n[°º]|num|núm|numéro|numero|número|ausgabe|heft|jahrgang|jg)\.?\s*\d{1,4}(?:\s*[-–]\s*\d{1,4})?\s*[,/]\s*)+(?:1[89]|20)\d\d\b`)

// isCount reports whether text is a count of pages or items (rxNotDate) whose total is
// no year.
func isCount(text string) bool {
	m := rxNotDate.FindStringSubmatch(text)
	if m == nil {
		return false
	}
	total, _ := strconv.Atoi(m[1])
	return total < 1900 || total > 2100
}

// Labels of a page's update date and of its publication date, in the network's
// languages, longest first (an alternation takes the first that matches).
var (
	rxUpdatedLabel   = regexp.MustCompile(`(?i)(?:^|[^\pL])(last updated|last modified|updated|modified|dernière mise à jour|mis à jour|mise à jour|actualisé|modifié le|zuletzt aktualisiert|zuletzt geändert|aktualisiert|geändert am|letzte änderung|actualizado|última actualización|aggiornato|ultimo aggiornamento|atualizado|bijgewerkt|laatst gewijzigd|zaktualizowano|actualizat|обновено|актуализирано|ενημερώθηκε|τελευταία ενημέρωση|עודכן|更新日|更新时间|更新於|更新)`)
	rxPublishedLabel = regexp.MustCompile(`(?i)(?:^|[^\pL])(originally published|first published|published|posted|publié|publiée|publication|veröffentlicht|erschienen|erstellt|publicado|publicación|pubblicato|publicação|gepubliceerd|geplaatst|opublikowano|publicat|публикувано|δημοσιεύθηκε|δημοσίευση|פורסם|公開日|公開|掲載日|投稿日|发布时间|发布|發布|发表|發表)`)
	// rxDateSeparator closes an update date that no publication label follows ("Updated
	// 4 December 2025 · 2 December 2025").
	rxDateSeparator = regexp.MustCompile(`\s[·•|;]\s|\s[-–—]\s`)
)

// splitUpdated parts a date label that gives a page's update date (rxUpdatedLabel) into
// pub, the text without it, and upd, the update date without its label; ok is false when
// the text has no update label, or is longer than a date label (a paragraph that speaks
// of an update). An update label runs to a publication label, a separator or the end.
//
// The publication date wins when both are given: "Updated 4 December 2025 · Published 2
// December 2025" and "Aktualisiert am 4. Dezember 2025, veröffentlicht am 2. Dezember
// 2025" were the 4th, the first date written, which moved the item at each update. A
// date given only as an update is still the item's date (the best the page gives), read
// without its label: "Mis à jour le 4 décembre 2025" was no date to go-dateparser.
func splitUpdated(text string) (pub, upd string, ok bool) {
	if utf8.RuneCountInString(text) > 120 {
		return "", "", false
	}
	locs := rxUpdatedLabel.FindAllStringSubmatchIndex(text, -1)
	var pb, ub strings.Builder
	last := 0
	for _, l := range locs {
		start, end := l[2], l[3]
		if start < last {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(text[end:]); unicode.IsLetter(r) && r < 0x2E80 {
			continue // "updates", "Modifiedness"; CJK labels run into their date
		}
		stop := len(text)
		if m := rxPublishedLabel.FindStringSubmatchIndex(text[end:]); m != nil {
			stop = end + m[2]
		}
		if m := rxDateSeparator.FindStringIndex(text[end:]); m != nil && end+m[0] < stop {
			stop = end + m[0]
		}
		pb.WriteString(text[last:start])
		pb.WriteString(" ")
		ub.WriteString(text[end:stop])
		ub.WriteString(" ")
		last = stop
		ok = true
	}
	if !ok {
		return "", "", false
	}
	pb.WriteString(text[last:])
	pub, upd = strings.TrimSpace(pb.String()), strings.TrimSpace(ub.String())
	upd = strings.TrimLeft(upd, ":： ")
	if !strings.ContainsFunc(pub, unicode.IsDigit) || rxYear.MatchString(upd) && !rxYear.MatchString(pub) {
		pub = ""
	}
	return pub, upd, true
}

// rxFirstOfMonth is the French first of the month ("le 1er mars 2024"), which
// go-dateparser does not read: "Publié le 1er mars 2024" was no date.
var rxFirstOfMonth = regexp.MustCompile(`(^|\P{L})1er\b`)

// rxSeptAbbr is September abbreviated as French writes it ("4 sept. 2025", WordPress's
// "4 sept 2025"), before a year, before a dash and a month ("sept.-oct. 2023": it was
// 7 October), or at the end of a label. go-dateparser's French reads
// "sept" as the number seven: "4 sept. 2025" was 4 July 2025, "sept. 2025" today.
// "sep" is September in every language the network uses; "sept jours" (seven days) is
// left alone.
var rxSeptAbbr = regexp.MustCompile(`(?i)(^|[^\pL\pN])sept(\.?\s*(?:[-–]\s*\pL|\d{2,4}(?:\D|$)|$))`)

// rxSeptAfterDay is "sept" after a day ("17 sept.-3 oct. 2023", "du 17 sept. au 3 oct.",
// "17-sept-2023"), before a dot, a dash or "au": September, which rxSeptAbbr, reading
// what follows it, cannot tell (17 July). "les 10 sept principes" is left alone.
var rxSeptAfterDay = regexp.MustCompile(`(?i)(\b(?:[12]?\d|3[01])(?:er)?\.?[\s-]+)sept(\.|\s*[-–]|\s+au\b)`)

// rxSettAbbr is September abbreviated as Italian writes it ("4 sett. 2023", "4 set.
// 2023"), before a year, a dash ("4 sett.-3 ott. 2023") or "al" ("dal 4 sett. al 3 ott."):
// go-dateparser's Italian reads "sett" as settimana, the week ("4 sett. 2023" was 4 weeks
// ago), and "set." was April or March where Italian is not the member's first language.
// Both become "settembre", which every language reads ("sep" lost the date beside "alle
// 10:30"). "4 sett. fa" (4 weeks ago) is left alone. rxFebrAbbr is German's "Febr." ("4. Febr. 2024"), which
// go-dateparser's German does not know (no date, or April 2023 in a labelled date): "Feb.".
var (
	rxSettAbbr = regexp.MustCompile(`(?i)(^|[^\pL\pN])(?:sett\.?|set\.)\s*([-–]\s*[\pL\pN]|-?\s*\d{4}(?:\D|$)|al\b)`)
	rxFebrAbbr = regexp.MustCompile(`(?i)\b(feb)r\b`)
)

// rxAbbrMonthDot is the dot of an abbreviated month between a day and a year ("4 déc.
// 2025", "4. Dez. 2025"). Searching a labelled date ("Publié le 4 déc. 2025"), go-dateparser
// splits sentences at that dot, and the year was lost: 4 December of the current year.
// rxAbbrMonthDotMDY is the same dot with the month first ("Published on Dec. 4, 2025", read
// as April 2025).
var (
	rxAbbrMonthDot    = regexp.MustCompile(`(\d{1,2}\.?\s*\pL{2,6})\.(\s*\d{4}(?:\D|$))`)
	rxAbbrMonthDotMDY = regexp.MustCompile(`(^|\PL)(\pL{3,5})\.(\s*\d{1,2}(?:st|nd|rd|th)?,?\s*\d{4}(?:\D|$))`)
)

// rxClockWord is a clock time written with an hour word, as French, Portuguese, Spanish,
// German, Dutch and Bulgarian pages write it beside a date: "10 h 15", "10h", "10 Uhr",
// "10.15 Uhr", "10:15 ч.". go-dateparser reads the hour word as a count of hours ago:
// "04/03/2026 à 10h" was ten hours before the poll, a date that moved at every poll,
// and "4. März 2026 um 10 Uhr" was 10 March. The hour words go longest first: an
// alternation takes the first that matches, and "h" in "18 hs" (Argentina, Uruguay)
// left "s" behind, a letter, so the time was not rewritten.
var rxClockWord = regexp.MustCompile(`(?i)(^|[^\pL\pN.:,])(\d{1,2})(?:\s*[.:]\s*(\d{2}))?\s*(hrs|hs|h|uhr|uur|ч)(?:\s*(\d{2}))?(\.?)(\s*min\b)?`)

// clockTimes rewrites the clock times of a dated text (it has a year: "il y a 3 h", "vor
// 3 Std." are not clock times) that carry an hour word as "10:15" (rxClockWord). A
// duration ("10 h 15 min") and a word that only starts like an hour word ("10 hours")
// are left alone.
func clockTimes(text string) string {
	var b strings.Builder
	last := 0
	for _, loc := range rxClockWord.FindAllStringSubmatchIndex(text, -1) {
		g := func(i int) string {
			if loc[2*i] < 0 {
				return ""
			}
			return text[loc[2*i]:loc[2*i+1]]
		}
		if r, _ := utf8.DecodeRuneInString(text[loc[1]:]); unicode.IsLetter(r) {
			continue
		}
		if g(7) != "" || g(3) != "" && g(5) != "" {
			continue
		}
		h, _ := strconv.Atoi(g(2))
		mm := g(3) + g(5)
		if mm == "" {
			mm = "00"
		}
		if n, _ := strconv.Atoi(mm); h > 23 || n > 59 {
			continue
		}
		dot := g(6)
		if strings.EqualFold(g(4), "ч") {
			dot = "" // "10:15 ч." closes with the abbreviation's dot
		}
		b.WriteString(text[last:loc[0]])
		fmt.Fprintf(&b, "%s%02d:%s%s", g(1), h, mm, dot)
		last = loc[1]
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// parse reads a whole date string, and failing that searches it for a date-like span. A
// time that depends on when the page is read ("2 hours ago", "vor 3 Stunden") is kept to
// its day (relativeDay).
func (d *dateParser) parse(text string) (time.Time, news.Precision, bool) {
	text = dateWords(text)
	d.read += utf8.RuneCountInString(text)
	text, hebrew := hebrewDates(text)
	if text == "" || !strings.ContainsFunc(text, unicode.IsDigit) || hebrew && !rxYear.MatchString(text) {
		return time.Time{}, news.PrecisionNone, false
	}
	text = strings.Map(halfWidthDigit, text)
	text = digitRanges(text) // before the issue numbers: "Nr. 12/2023-01/2024" left "-01/2024"
	if rxReadingTime.MatchString(text) {
		text = strings.TrimSpace(rxReadingTime.ReplaceAllString(text, " "))
	}
	if rxIssueNumber.MatchString(text) {
		text = strings.TrimSpace(rxIssueNumber.ReplaceAllString(text, " "))
	}
	if isCount(text) || !strings.ContainsFunc(text, unicode.IsDigit) {
		return time.Time{}, news.PrecisionNone, false
	}
	if pub, upd, ok := splitUpdated(text); ok {
		if t, p, ok := d.parse(pub); ok {
			return t, p, true
		}
		return d.parse(upd)
	}
	text = rxFirstOfMonth.ReplaceAllString(text, "${1}1")
	text = rxSeptAbbr.ReplaceAllString(text, "${1}sep${2}")
	text = rxSeptAfterDay.ReplaceAllString(text, "${1}sep${2}")
	text = rxSettAbbr.ReplaceAllString(text, "${1}settembre ${2}")
	text = rxFebrAbbr.ReplaceAllString(text, "${1}")
	text = rxAbbrMonthDot.ReplaceAllString(text, "${1}${2}")
	text = rxAbbrMonthDotMDY.ReplaceAllString(text, "${1}${2}${3}")
	if rxYear.MatchString(text) {
		text = clockTimes(text)
	}
	// All-digit dates in the member's order (isoNumericDates), here for whole dates too:
	// go-dateparser's own order, when set, would also read year-first dates ("2024/03/05")
	// in it.
	text = isoNumericDates(text, d.order)
	text = monthYears(text)
	text = d.monthRanges(text)
	text = d.abbrMonthYears(text)
	text = eraYears(text)
	text = cjkDayRanges(text)
	if len([]rune(text)) <= 40 && !rxYear.MatchString(text) {
		text = d.yearlessDates(text)
	}
	if t, p, ok := d.parseISO(text); ok {
		return t, p, true
	}
	t, p, ok := d.parseText(text)
	if ok && p == news.PrecisionExact {
		return d.relativeDay(text, t)
	}
	return t, p, ok
}

// relativeDay returns t, a time read from text, to its day when text gives it relative
// to now: read an hour later, it says another time. "2 hours ago" on a page stays "2
// hours ago" for an hour, and each poll in that hour made of it another time: the item's
// date moved at every poll, and an item with no link, known by its title and date, came
// back as a new item each time. Its day moves only at midnight.
//
// A text with a year is not relative and is not read again (a second go-dateparser
// parse, a search of running text that counts against searchBudget). Only a time that
// moves with now ("2 hours ago": an hour later, an hour later) is kept to its day: a
// clock time on a relative day ("yesterday at 10:30") stays put all day, and read in
// the last hour of the day, when an hour later is the next day, it kept its time.
func (d *dateParser) relativeDay(text string, t time.Time) (time.Time, news.Precision, bool) {
	if rxYear.MatchString(text) {
		return t, news.PrecisionExact, true
	}
	now := d.cfg.CurrentTime
	d.cfg.CurrentTime = now.Add(time.Hour)
	later, _, ok := d.parseText(text)
	d.cfg.CurrentTime = now
	if !ok || !later.Equal(t.Add(time.Hour)) {
		return t, news.PrecisionExact, true
	}
	t = t.In(d.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, d.loc), news.PrecisionDay, true
}

// halfWidthDigit maps the full-width digits of Japanese and Chinese pages ("２０２４年３月５日")
// to ASCII ones, which the rewrites before go-dateparser read.
func halfWidthDigit(r rune) rune {
	if r >= '０' && r <= '９' {
		return '0' + r - '０'
	}
	return r
}

var (
	// rxEraYear is a year of a Japanese era ("令和6年", "平成31年", "令和元年": its first
	// year) or of the Republic of China ("民國113年"), as Japanese and Taiwanese pages date
	// their news. go-dateparser knows neither: "令和6年3月5日" was no date, "令和6年1月16日"
	// the 1 June 2016 and "令和元年5月7日" the 7 May of the current year.
	rxEraYear = regexp.MustCompile(`(令和|平成|昭和|民國|民国)\s*(\d{1,3}|元)\s*年`)
	// eraStart is the year before each era's first.
	eraStart = map[string]int{"令和": 2018, "平成": 1988, "昭和": 1925, "民國": 1911, "民国": 1911}
)

// eraYears rewrites the era years of text as Gregorian ones ("令和6年3月5日" is "2024年3月5日").
func eraYears(text string) string {
	if !strings.Contains(text, "年") {
		return text
	}
	return rxEraYear.ReplaceAllStringFunc(text, func(m string) string {
		g := rxEraYear.FindStringSubmatch(m)
		n := 1
		if g[2] != "元" {
			n, _ = strconv.Atoi(g[2])
		}
		if n < 1 || n > 150 {
			return m
		}
		return strconv.Itoa(eraStart[g[1]]+n) + "年"
	})
}

// rxDayRangeCJK is a range of days in one month written in Chinese or Japanese, its end
// a day alone ("2018年3月16日～17日", "2018年3月16日-17日", weekdays after the days:
// "16日（火）～17日（水）"), as an event is dated.
var rxDayRangeCJK = regexp.MustCompile(`(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)(\s*[（(][^）)]{1,4}[）)])?\s*[～〜~\-－–—]\s*\d{1,2}\s*日(?:\s*[（(][^）)]{1,4}[）)])?`)

// cjkDayRanges leaves a day range of text (rxDayRangeCJK) its first day: go-dateparser
// read the end alone ("17日") as a number of days ago, a date that moved at every poll.
func cjkDayRanges(text string) string {
	if !strings.Contains(text, "日") {
		return text
	}
	return rxDayRangeCJK.ReplaceAllString(text, "${1}${2}")
}

var (
	// rxMonthDayCJK is a day of a month without its year, as Chinese and Japanese lists
	// date this year's news ("3月5日", "12月5日", "3月5号"). go-dateparser read it in
	// Chinese as a time ago ("3月5日" three months before now, the 5th: 5 December of the
	// year before) and in Japanese "12月5日" as May 2012.
	rxMonthDayCJK = regexp.MustCompile(`(^|[^\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]`)
	// rxMonthDayNumeric is a short date label of two numbers ("03-05", "03/05", "05.03."):
	// month first where the member's locale writes the year first (Chinese, Japanese,
	// Korean: go-dateparser read "03-05" as May 2003, "12-25" as 25 March 2012), day
	// first and closed by a dot where it writes the day first (German, Polish: "05.03."
	// was read as 05:03 today).
	rxMonthDayNumeric = regexp.MustCompile(`(^|[^\d./-])(\d{1,2})([-/.])(\d{1,2})(\.?)($|[^\d./-])`)
)

// yearlessDates rewrites the year-less dates of a short date label (which has no year)
// with the year that makes them the latest such day not after now, as go-dateparser
// takes the past for a year-less "5 March": "3月5日" read on 10 March 2024 is
// "2024年3月5日", read on 1 March 2024 "2023年3月5日".
func (d *dateParser) yearlessDates(text string) string {
	if strings.Contains(text, "月") {
		return rxMonthDayCJK.ReplaceAllStringFunc(text, func(m string) string {
			g := rxMonthDayCJK.FindStringSubmatch(m)
			month, _ := strconv.Atoi(g[2])
			day, _ := strconv.Atoi(g[3])
			y, ok := d.pastYear(month, day)
			if !ok {
				return m
			}
			return fmt.Sprintf("%s%d年%d月%d日", g[1], y, month, day)
		})
	}
	return rxMonthDayNumeric.ReplaceAllStringFunc(text, func(m string) string {
		g := rxMonthDayNumeric.FindStringSubmatch(m)
		a, _ := strconv.Atoi(g[2])
		b, _ := strconv.Atoi(g[4])
		var month, day int
		switch {
		case d.order == "YMD":
			month, day = a, b
		case d.order == "DMY" && g[3] == "." && g[5] == ".":
			day, month = a, b
		default:
			return m // "03/05" and "05-03": go-dateparser reads them in the member's order
		}
		y, ok := d.pastYear(month, day)
		if !ok {
			return m
		}
		return fmt.Sprintf("%s%d-%02d-%02d%s", g[1], y, month, day, g[6])
	})
}

// pastYear is the year in which month and day fall last on or before now, in the page's
// location; ok is false when they make no day (13/05, 30 February), or when only a leap
// year has them and this one is not.
func (d *dateParser) pastYear(month, day int) (int, bool) {
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return 0, false
	}
	now := d.cfg.CurrentTime.In(d.loc)
	y := now.Year()
	if time.Date(y, time.Month(month), day, 0, 0, 0, 0, d.loc).After(now) {
		y--
	}
	if t := time.Date(y, time.Month(month), day, 0, 0, 0, 0, d.loc); t.Month() != time.Month(month) {
		return 0, false
	}
	return y, true
}

// parseText reads text with go-dateparser: whole when it is short, else searching it.
func (d *dateParser) parseText(text string) (time.Time, news.Precision, bool) {
	if len([]rune(text)) <= 60 {
		if dt, err := d.p.Parse(d.cfg, text); err == nil {
			if t, p, ok := d.convert(dt); ok {
				return t, p, true
			}
		}
	}
	return d.search(text, len([]rune(text)) <= 40)
}

// parseISO reads ISO 8601 dates and RFC 3339 timestamps without going through go-dateparser.
func (d *dateParser) parseISO(s string) (time.Time, news.Precision, bool) {
	if !rxISO.MatchString(s) {
		return time.Time{}, news.PrecisionNone, false
	}
	s = strings.Replace(s, " ", "T", 1)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, d.loc); err == nil {
			return t, news.PrecisionExact, true
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, d.loc); err == nil {
		return t, news.PrecisionDay, true
	}
	return time.Time{}, news.PrecisionNone, false
}

// dateLocale is the locale whose order reads the member's all-digit dates: its first
// language as written when it names a region the date parser knows ("en-GB"), else that
// language in the member's country ("en" and AU: "en-AU"), else base, the first language
// the parser reads.
//
// A regional locale counts only when it puts the day or the month first: one that puts
// the year first (en-CA, fr-CA, en-ZA) says nothing of how "05/03/2024" is meant there,
// and the language's own order stays (day first in French).
func dateLocale(languages []string, country, base string) string {
	var cands []string
	if len(languages) > 0 && strings.ContainsAny(languages[0], "-_") {
		cands = append(cands, strings.ReplaceAll(languages[0], "_", "-"))
	}
	if country != "" {
		cands = append(cands, base+"-"+country)
	}
	for _, l := range cands {
		if dps.IsKnownLocale(l) {
			if o := dmy(l); o == "DMY" || o == "MDY" {
				return l
			}
		}
	}
	return base
}

// dmy is the order of day, month and year in locale's dates ("DMY", "MDY", "YMD"…): a
// locale's order may carry more than the three letters (Bulgarian's is "DMY 'Г'.").
func dmy(locale string) string {
	return strings.Map(func(r rune) rune {
		if r == 'D' || r == 'M' || r == 'Y' {
			return r
		}
		return -1
	}, dps.DefaultDateOrder(locale))
}

// search finds the first date-like span in running text. Unless allowYearless is set (short date
// labels), a span must carry a year, so that "last week" or "the 3rd" in a sentence is no date.
func (d *dateParser) search(text string, allowYearless bool) (time.Time, news.Precision, bool) {
	if d.searching >= searchBudget {
		d.skipped++
		return time.Time{}, news.PrecisionNone, false
	}
	d.searches++
	start := time.Now()
	defer func() { d.searching += time.Since(start) }()
	if r := []rune(text); len(r) > maxDateLen {
		text = string(r[:maxDateLen])
	}
	text = splitLabels(text) // its all-digit dates were rewritten by parse (isoNumericDates)
	// go-dateparser's own language guess picks among the configured languages on thin evidence (French
	// for an English paragraph); whatlanggo's guess goes first, then the member's languages in order.
	langs := d.cfg.Languages
	if l := detectLanguage(text, d.cfg.Languages); l != "" && slices.Contains(langs, l) {
		langs = append([]string{l}, slices.DeleteFunc(slices.Clone(langs), func(s string) bool { return s == l })...)
	}
	for _, lang := range langs {
		res, err := d.p.SearchWithLanguage(d.cfg, lang, text)
		if err != nil {
			continue
		}
		if t, p, ok := d.pick(text, res, allowYearless); ok {
			return t, p, true
		}
	}
	return time.Time{}, news.PrecisionNone, false
}

// splitLabels turns the colons (and bars) that glue a label or a sentence to a date into a
// full stop, leaving times ("10:30") whole: "May 2017: ISS ..." hides its date from the
// search's splitter, and so did the " : " it used to become, with "Published: 05 March 2024",
// "Veröffentlicht: 05. März 2024" (read as May 2023) and "Published on Tuesday, 05 March
// 2024 10:30" (its time split in two) all common CMS date labels.
func splitLabels(text string) string {
	r := []rune(text)
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != ':' && c != '：' && c != '|' {
			b.WriteRune(c)
			continue
		}
		if c == ':' && i > 0 && i+1 < len(r) && unicode.IsDigit(r[i-1]) && unicode.IsDigit(r[i+1]) {
			b.WriteRune(c)
			continue
		}
		s := strings.TrimRightFunc(b.String(), unicode.IsSpace)
		b.Reset()
		b.WriteString(s)
		b.WriteString(". ")
		for i+1 < len(r) && unicode.IsSpace(r[i+1]) {
			i++
		}
	}
	return b.String()
}

// rxNumericDate is a day, month and year written in digits ("05/03/2024", "5.3.2024", "05-03-2024"),
// alone or after a word and a hyphen (Hebrew "ב-05.03.2024", on 5 March 2024).
var rxNumericDate = regexp.MustCompile(`(^|[^\d./-]|\p{L}-)(\d{1,2})([./-])(\d{1,2})([./-])(\d{4})($|[^\d./-])`)

// isoNumericDates rewrites the all-digit dates of text as ISO dates, read in order (dmy of
// the member's locale). go-dateparser's search translates the text to English and reads such a date
// in English's order, month first, whatever the language searched: on a French member's page
// "Publié le 05/03/2024" was read as 3 May, and "Mis à jour le 12/03/2024" as 3 December (in
// the future, so clamped to the time first seen), while the same date alone in a date element
// (Parse, in the member's locale) gave 5 and 12 March. A date the order cannot make valid
// ("13/25/2024") is left as it is.
func isoNumericDates(text, order string) string {
	if order != "DMY" && order != "MDY" {
		return text // year first ("2024/03/05"): go-dateparser reads those right
	}
	// Twice: a match takes the character after its date, which may start the next one
	// ("05/03/2024–12/03/2024").
	return rewriteNumericDates(rewriteNumericDates(text, order), order)
}

// rewriteNumericDates rewrites the all-digit dates of text that do not touch another
// match, read in order ("DMY" or "MDY"), as ISO dates (see isoNumericDates).
func rewriteNumericDates(text, order string) string {
	return rxNumericDate.ReplaceAllStringFunc(text, func(m string) string {
		g := rxNumericDate.FindStringSubmatch(m)
		if g[3] != g[5] {
			return m
		}
		a, _ := strconv.Atoi(g[2])
		b, _ := strconv.Atoi(g[4])
		day, month := a, b
		if order == "MDY" {
			day, month = b, a
		}
		if day < 1 || day > 31 || month < 1 || month > 12 {
			return m
		}
		lead := g[1]
		if strings.HasSuffix(lead, "-") {
			lead += " " // "ב-2024-03-05" is no date to go-dateparser, "ב- 2024-03-05" is
		}
		return fmt.Sprintf("%s%s-%02d-%02d%s", lead, g[6], month, day, g[7])
	})
}

// rxDigitRange is two all-digit dates or months, each with its year, joined by a plain
// hyphen ("12/2023-01/2024", "12.2023-01.2024", "05.03.2024-06.03.2024"), a range as
// newsletters and events are dated.
var rxDigitRange = regexp.MustCompile(`((?:^|[^\d./-])\d{1,2}[./-](?:\d{1,2}[./-])?(?:1[89]|20)\d\d)-(\d{1,2}[./-](?:\d{1,2}[./-])?(?:1[89]|20)\d\d(?:$|[^\d./-]))`)

// digitRanges spaces the hyphen of an all-digit range (rxDigitRange) as an en dash, so
// that its first date is read (the range's start, as for months in words): the hyphen
// glued the two dates into one run of digits, which isoNumericDates and monthYears do not
// take apart (a hyphen may belong to the date, "12-01-2024"), and go-dateparser read no
// date ("12/2023-01/2024", "05/03/2024-06/03/2024") or the wrong one ("12.2023-01.2024"
// was January 2023, "05.03.2024-06.03.2024" June 2024). With an en dash or spaces they
// were read right.
func digitRanges(text string) string {
	if !strings.Contains(text, "-") {
		return text
	}
	return rxDigitRange.ReplaceAllString(text, "${1} – ${2}")
}

// rxMonthYear is a month and year written in digits ("12/2023", "03.2024", "3-2024"), as
// newsletter and report listings date an issue, that is no part of a longer date.
var rxMonthYear = regexp.MustCompile(`(^|[^\d./-])(\d{1,2})[./-]((?:1[89]|20)\d\d)($|[^\d./-])`)

// monthYears rewrites the all-digit months of text (rxMonthYear) as "2023-12", which
// go-dateparser reads as a month in every language. Parsed whole in the order of a
// member that writes the day first, "12/2023" was the 12 March 2023, "03/2024" the 3rd;
// searched in running text it was already December 2023. An issue number with its year
// ("Nr. 12/2023") was taken out before (rxIssueNumber).
func monthYears(text string) string {
	if !rxYear.MatchString(text) {
		return text
	}
	return rxMonthYear.ReplaceAllStringFunc(text, func(m string) string {
		g := rxMonthYear.FindStringSubmatch(m)
		switch month, _ := strconv.Atoi(g[2]); {
		case month > 12:
			return g[1] + g[3] + g[4] // no month: the year alone, no date ("13/2023" was 13 March)
		case month < 1:
			return m
		default:
			return fmt.Sprintf("%s%s-%02d%s", g[1], g[3], month, g[4])
		}
	})
}

// rxMonthRange is two months and a year, the span of a newsletter's issue ("sept.-oct.
// 2023", "Sept–Oct 2023", "juillet-août 2024", "November/December 2023", "julio-agosto de
// 2024"). Whether the two words are months is left to go-dateparser (monthRanges).
var rxMonthRange = regexp.MustCompile(`(^|[^\pL\pN])(\pL{3,12}\.?)\s*[-–—/]\s*(\pL{3,12}\.?)(\s*,?\s*(?:de\s+|del\s+)?)((?:1[89]|20)\d\d)($|\D)`)

// monthRanges rewrites a two-month span of text (rxMonthRange) as its first month with
// the year: "sept.-oct. 2023" is "sept. 2023", a month-precise date. go-dateparser read
// no date in such a span, and the issue took the time first seen. The second month is
// checked too: "Sommer-Newsletter 2023" and "Kinder-Rechte 2023" stay as they are. A
// span over the new year ("Dezember/Januar 2024") starts in the year before.
func (d *dateParser) monthRanges(text string) string {
	if !rxYear.MatchString(text) {
		return text
	}
	checks := 0
	return rxMonthRange.ReplaceAllStringFunc(text, func(m string) string {
		if checks++; checks > maxMonthChecks {
			return m
		}
		g := rxMonthRange.FindStringSubmatch(m)
		year, _ := strconv.Atoi(g[5])
		first, ok1 := d.month(g[2] + " " + g[5])
		second, ok2 := d.month(g[3] + " " + g[5])
		if !ok1 || !ok2 || first == second {
			return m
		}
		if first > second {
			year--
		}
		return fmt.Sprintf("%s%s %d%s", g[1], g[2], year, g[6])
	})
}

// rxAbbrMonthYear is an abbreviated month with its dot before a year, without a day
// ("déc. 2023", "Sept. 2023").
var rxAbbrMonthYear = regexp.MustCompile(`(^|[^\pL\pN])(\pL{3,5})\.(\s*)((?:1[89]|20)\d\d)($|\D)`)

// abbrMonthYears drops the dot of an abbreviated month before a year (rxAbbrMonthYear)
// when go-dateparser reads the two as a month: searching a labelled month ("Publié en
// déc. 2023", or a two-month issue once monthRanges made it its first month), it split
// the sentence at that dot and read no date (as rxAbbrMonthDot, with a day).
func (d *dateParser) abbrMonthYears(text string) string {
	if !strings.Contains(text, ".") || !rxYear.MatchString(text) {
		return text
	}
	checks := 0
	return rxAbbrMonthYear.ReplaceAllStringFunc(text, func(m string) string {
		if checks++; checks > maxMonthChecks {
			return m
		}
		g := rxAbbrMonthYear.FindStringSubmatch(m)
		if _, ok := d.month(g[2] + " " + g[4]); !ok {
			return m
		}
		return g[1] + g[2] + g[3] + g[4] + g[5]
	})
}

// maxMonthChecks bounds the spans of one text that monthRanges and abbrMonthYears have
// go-dateparser check (a parse each, outside searchBudget): a date label holds one or two,
// and a crafted text thousands.
const maxMonthChecks = 4

// month reads s as a month with its year, in the member's languages.
func (d *dateParser) month(s string) (time.Month, bool) {
	dt, err := d.p.Parse(d.cfg, s)
	if err != nil || dt.IsZero() || dt.Period != date.Month {
		return 0, false
	}
	return dt.Time.Month(), true
}

// pick chooses the first usable date among search results.
func (d *dateParser) pick(text string, res []dps.SearchResult, allowYearless bool) (time.Time, news.Precision, bool) {
	for i, r := range res {
		t, p, ok := d.convert(r.Date)
		if !ok {
			continue
		}
		if !strings.ContainsFunc(r.Text, unicode.IsDigit) {
			continue
		}
		if rxYear.MatchString(r.Text) && p == news.PrecisionDay {
			if start, ok := d.rangeStart(text, r.Text, t); ok {
				return start, p, true
			}
		}
		if !rxYear.MatchString(r.Text) {
			// The start of a range borrows the year of its end: "30 November to 1 December 2017".
			if i+1 < len(res) && rxYear.MatchString(res[i+1].Text) && strings.Contains(text, r.Text) {
				if next, _, ok := d.convert(res[i+1].Date); ok && p == news.PrecisionDay {
					y := next.Year()
					start := time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
					if start.After(next) {
						start = start.AddDate(-1, 0, 0)
					}
					return start, p, true
				}
			}
			if !allowYearless {
				continue
			}
		}
		return t, p, true
	}
	return time.Time{}, news.PrecisionNone, false
}

// rangeConnectors join the two ends of a date range, in the network's languages.
var rangeConnectors = []string{"-", "–", "—", "to", "au", "bis", "al", "a", "tot", "do", "до", "έως", "עד", "～", "〜", "から", "至"}

// rangeStart looks for the year-less start of a range that ends with the match ("31 Jan to 2 Feb, 2018"),
// which the search splitter can miss.
func (d *dateParser) rangeStart(text, match string, end time.Time) (time.Time, bool) {
	i := strings.Index(text, match)
	if i <= 0 {
		return time.Time{}, false
	}
	prefix := strings.TrimSpace(text[:i])
	found := false
	for _, c := range rangeConnectors {
		if rest, ok := strings.CutSuffix(prefix, c); ok && (len(rest) == 0 || !unicode.IsLetter(lastRune(rest)) || !unicode.IsLetter([]rune(c)[0])) {
			prefix, found = strings.TrimSpace(rest), true
			break
		}
	}
	if !found || prefix == "" {
		return time.Time{}, false
	}
	words := strings.Fields(prefix)
	var t time.Time
	ok := false
	for k := min(3, len(words)); k >= 1 && !ok; k-- {
		cand := strings.Join(words[len(words)-k:], " ")
		if rxYear.MatchString(cand) || !strings.ContainsFunc(cand, unicode.IsDigit) {
			continue
		}
		if dt, err := d.p.Parse(d.cfg, cand); err == nil {
			var p news.Precision
			t, p, ok = d.convert(dt)
			ok = ok && p == news.PrecisionDay
		}
	}
	if !ok {
		return time.Time{}, false
	}
	start := time.Date(end.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	if start.After(end) {
		start = start.AddDate(-1, 0, 0)
	}
	return start, true
}

func lastRune(s string) rune {
	r := []rune(s)
	return r[len(r)-1]
}

// convert maps go-dateparser's period onto a news precision; a bare year is not a date.
func (d *dateParser) convert(dt date.Date) (time.Time, news.Precision, bool) {
	if dt.IsZero() {
		return time.Time{}, news.PrecisionNone, false
	}
	t := dt.Time
	switch {
	case dt.Period.IsTime():
		return t, news.PrecisionExact, true
	case dt.Period == date.Day:
		t = t.In(d.loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, d.loc), news.PrecisionDay, true
	case dt.Period == date.Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), news.PrecisionMonth, true
	}
	return time.Time{}, news.PrecisionNone, false
}
