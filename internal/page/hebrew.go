package page

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// rxHebrewDate is a date of the Hebrew calendar as Israeli pages write it beside (or
// instead of) the Gregorian one: a day and a month in Hebrew letters, and a year of this
// era ("כ״ה בכסלו תשפ״ו", "ט״ו בשבט ה׳תשפ״ו", "כ"ה כסלו התשפ"ו"). go-dateparser knows
// none of it: alone it was no date (it has no digit), and beside a time ("כ״ה בכסלו
// תשפ״ו 10:30") it was the day of the poll at that time.
var rxHebrewDate = regexp.MustCompile(`(^|[^\x{05D0}-\x{05EA}])` +
	`([\x{05D0}-\x{05EA}][״"][\x{05D0}-\x{05EA}]|[\x{05D0}-\x{05EA}][׳']|[\x{05D0}-\x{05EA}]{1,2})\s+` +
	`ב?-?(תשרי|מרחשוון|מרחשון|חשוון|חשון|כסלו|כסליו|טבת|שבט|אדר\s+(?:א|ב|ראשון|שני)[׳']?|אדר|ניסן|אייר|איר|סיוון|סיון|תמוז|מנחם\s+אב|אב|אלול)` +
	`(?:,?\s+(ה[׳']?)?(ת[\x{05D0}-\x{05EA}]{0,2}[״"][\x{05D0}-\x{05EA}]|ת[\x{05D0}-\x{05EA}]{1,3}))?` +
	`($|[^\x{05D0}-\x{05EA}׳'״"])`)

// The months of the Hebrew year, from its new year: Adar I only in a leap year.
const (
	tishri = iota
	heshvan
	kislev
	tevet
	shevat
	adarI
	adar // Adar, and Adar II of a leap year
	nisan
	iyar
	sivan
	tammuz
	av
	elul
)

var hebrewMonths = map[string]int{
	"תשרי": tishri, "מרחשוון": heshvan, "מרחשון": heshvan, "חשוון": heshvan, "חשון": heshvan,
	"כסלו": kislev, "כסליו": kislev, "טבת": tevet, "שבט": shevat, "אדר": adar, "ניסן": nisan,
	"אייר": iyar, "איר": iyar, "סיוון": sivan, "סיון": sivan, "תמוז": tammuz, "אב": av, "אלול": elul,
}

// hebrewDates rewrites the Hebrew calendar dates of text (rxHebrewDate) as ISO dates;
// found reports whether text had one, read or not. One without its year, or on no day
// of its year, is taken out: the text keeps no date of it (what is left may still hold
// a Gregorian date), rather than a wrong one. In a leap year a plain "Adar" (Adar I or
// Adar II, by custom) is not read.
func hebrewDates(text string) (string, bool) {
	if !strings.ContainsFunc(text, isHebrewLetter) {
		return text, false
	}
	found := false
	text = rxHebrewDate.ReplaceAllStringFunc(text, func(m string) string {
		g := rxHebrewDate.FindStringSubmatch(m)
		day := gematria(g[2])
		if day < 1 || day > 30 {
			return m // "של אב" (of a father) is no day
		}
		found = true
		keep := g[1] + " " + g[6]
		if g[5] == "" {
			return keep
		}
		t, ok := hebrewDate(gematria(g[5])+5000, g[3], day)
		if !ok {
			return keep
		}
		return fmt.Sprintf("%s%s%s", g[1], t.Format("2006-01-02"), g[6])
	})
	return text, found
}

func isHebrewLetter(r rune) bool { return r >= 0x05D0 && r <= 0x05EA }

var tens = map[rune]int{'י': 10, 'ך': 20, 'כ': 20, 'ל': 30, 'ם': 40, 'מ': 40, 'ן': 50, 'נ': 50, 'ס': 60, 'ע': 70, 'ף': 80, 'פ': 80, 'ץ': 90, 'צ': 90}

// gematria is the number that Hebrew letters write ("כ״ה" is 25, "תשפ״ו" 786).
func gematria(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 'א' && r <= 'ט':
			n += int(r-'א') + 1
		case r >= 'י' && r <= 'צ':
			n += tens[r]
		case r == 'ק':
			n += 100
		case r == 'ר':
			n += 200
		case r == 'ש':
			n += 300
		case r == 'ת':
			n += 400
		}
	}
	return n
}

// hebrewDate is the Gregorian day of the day-th of month (a name of rxHebrewDate) in
// Hebrew year y.
func hebrewDate(y int, month string, day int) (time.Time, bool) {
	if y < 5700 || y > 5900 || day < 1 || day > 30 {
		return time.Time{}, false
	}
	fields := strings.Fields(strings.NewReplacer("׳", "", "'", "").Replace(month))
	m, ok := hebrewMonths[fields[len(fields)-1]]
	leap := (7*y+1)%19 < 7
	switch {
	case fields[0] == "אדר" && len(fields) > 1:
		if !leap {
			return time.Time{}, false
		}
		m = adar
		if fields[1] == "א" || fields[1] == "ראשון" {
			m = adarI
		}
	case !ok, m == adar && leap:
		return time.Time{}, false
	}
	newYear := hebrewNewYear(y)
	yearDays := hebrewNewYear(y+1) - newYear
	lengths := [13]int{30, 29, 30, 29, 30, 0, 29, 30, 29, 30, 29, 30, 29}
	if yearDays%10 == 5 {
		lengths[heshvan] = 30
	}
	if yearDays%10 == 3 {
		lengths[kislev] = 29
	}
	if leap {
		lengths[adarI] = 30
	}
	if day > lengths[m] {
		return time.Time{}, false
	}
	days := newYear - hebrewNewYear(5786) + day - 1
	for _, n := range lengths[:m] {
		days += n
	}
	// 1 Tishri 5786 was 23 September 2025.
	return time.Date(2025, time.September, 23+days, 0, 0, 0, 0, time.UTC), true
}

// hebrewNewYear is the count of days from the epoch of the Hebrew calendar to the first
// of Tishri of year y: the new moon of its Tishri, put off by the calendar's rules
// (Calendrical Calculations, "hebrew-new-year").
func hebrewNewYear(y int) int {
	elapsed := func(y int) int {
		months := (235*y - 234) / 19
		parts := 12084 + 13753*months
		days := 29*months + parts/25920
		if (3*(days+1))%7 < 3 {
			days++
		}
		return days
	}
	last, this, next := elapsed(y-1), elapsed(y), elapsed(y+1)
	switch {
	case next-this == 356:
		return this + 2
	case this-last == 382:
		return this + 1
	}
	return this
}
