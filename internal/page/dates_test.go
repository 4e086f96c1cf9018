package page

import (
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

func TestParseDate(t *testing.T) {
	now := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name   string
		langs  []string
		loc    *time.Location
		in     string
		want   time.Time
		prec   news.Precision
		nodate bool
	}{
		{name: "fr day", langs: []string{"fr"}, in: "5 juin 2018", want: day(2018, 6, 5), prec: news.PrecisionDay},
		{name: "fr first of the month", langs: []string{"fr"}, in: "Publié le 1er mars 2024", want: day(2024, 3, 1), prec: news.PrecisionDay},
		{name: "en reading time", langs: []string{"en"}, in: "5 min read", nodate: true},
		{name: "de reading time", langs: []string{"de"}, in: "3 Min. Lesezeit", nodate: true},
		{name: "es reading time", langs: []string{"es"}, in: "5 minutos de lectura", nodate: true},
		{name: "en reading time label", langs: []string{"en"}, in: "Reading time: 4 minutes", nodate: true},
		{name: "en date beside a reading time", langs: []string{"en"}, in: "March 5, 2024 · 5 min read", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "de date beside a reading time", langs: []string{"de"}, in: "3. März 2024 · 3 Min. Lesezeit", want: day(2024, 3, 3), prec: news.PrecisionDay},
		{name: "en page count", langs: []string{"en"}, in: "Page 2 of 10", nodate: true},
		{name: "en read time before a date", langs: []string{"en"}, in: "Read time 5 min · 5 March 2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "de count", langs: []string{"de"}, in: "2 von 10", nodate: true},
		{name: "es month day de year", langs: []string{"es"}, in: "marzo 5 de 2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "en month day of year", langs: []string{"en"}, in: "March 5 of 2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "en minutes ago still relative", langs: []string{"en"}, in: "Posted 5 minutes ago", want: day(2024, 3, 10), prec: news.PrecisionDay},
		{name: "fr with label", langs: []string{"fr", "en"}, in: "Publié le 5 juin 2018", want: day(2018, 6, 5), prec: news.PrecisionDay},
		{name: "en range start", langs: []string{"en"}, in: "30 November to 1 December 2017", want: day(2017, 11, 30), prec: news.PrecisionDay},
		{name: "en range in text", langs: []string{"en"}, in: "The group met in Zurich from 31 Jan to 2 Feb, 2018. Work continues.", want: day(2018, 1, 31), prec: news.PrecisionDay},
		{name: "en month", langs: []string{"en"}, in: "May 2017", want: day(2017, 5, 1), prec: news.PrecisionMonth},
		{name: "en month in text", langs: []string{"en"}, in: "May 2017: ISS launched an evaluation mission in Morocco last week", want: day(2017, 5, 1), prec: news.PrecisionMonth},
		{name: "en month colon no space", langs: []string{"en"}, in: "April 2017:ISS network submits its first activity report", want: day(2017, 4, 1), prec: news.PrecisionMonth},
		{name: "en long", langs: []string{"en"}, in: "Posted on March 3, 2021 by admin", want: day(2021, 3, 3), prec: news.PrecisionDay},
		{name: "de day", langs: []string{"de"}, in: "3. März 2019", want: day(2019, 3, 3), prec: news.PrecisionDay},
		{name: "de label", langs: []string{"de"}, in: "Veröffentlicht am 3. März 2019", want: day(2019, 3, 3), prec: news.PrecisionDay},
		{name: "zh", langs: []string{"zh"}, in: "2019年3月5日", want: day(2019, 3, 5), prec: news.PrecisionDay},
		{name: "ja", langs: []string{"ja"}, in: "2019年3月5日 更新", want: day(2019, 3, 5), prec: news.PrecisionDay},
		{name: "zh label iso", langs: []string{"zh"}, in: "发布时间：2019-03-05", want: day(2019, 3, 5), prec: news.PrecisionDay},
		{name: "es", langs: []string{"es"}, in: "12 de marzo de 2021", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "nl", langs: []string{"nl"}, in: "Gepubliceerd op 12 maart 2021", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "pl", langs: []string{"pl"}, in: "12 marca 2021 r.", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "bg", langs: []string{"bg"}, in: "12 март 2021 г.", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "el", langs: []string{"el"}, in: "12 Μαρτίου 2021", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "he", langs: []string{"he"}, in: "12 במרץ 2021", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "pt", langs: []string{"pt"}, in: "12 de março de 2021", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "ro", langs: []string{"ro"}, in: "12 martie 2021", want: day(2021, 3, 12), prec: news.PrecisionDay},
		{name: "iso date", langs: []string{"en"}, in: "2019-03-05", want: day(2019, 3, 5), prec: news.PrecisionDay},
		{name: "iso timestamp", langs: []string{"en"}, in: "2019-03-05T10:00:00+02:00", want: time.Date(2019, 3, 5, 8, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "iso local in location", langs: []string{"fr"}, loc: paris, in: "2019-03-05T10:00:00", want: time.Date(2019, 3, 5, 9, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "en relative", langs: []string{"en"}, in: "2 days ago", want: day(2024, 3, 8), prec: news.PrecisionDay},
		// A time relative to now is kept to its day: read again half an hour later, it must
		// not move (TestRelativeTimeStaysPut).
		{name: "en relative hours", langs: []string{"en"}, in: "2 hours ago", want: day(2024, 3, 10), prec: news.PrecisionDay},
		{name: "en clock time stays exact", langs: []string{"en"}, in: "March 3, 2021 10:30", want: time.Date(2021, 3, 3, 10, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "fr relative", langs: []string{"fr"}, in: "il y a 3 jours", want: day(2024, 3, 7), prec: news.PrecisionDay},
		{name: "de relative", langs: []string{"de"}, in: "vor 3 Tagen", want: day(2024, 3, 7), prec: news.PrecisionDay},
		{name: "es relative", langs: []string{"es"}, in: "hace 3 días", want: day(2024, 3, 7), prec: news.PrecisionDay},
		// A label's colon, and a numeric date inside a sentence, go through the search of running text:
		// "Label: date" was no date (or the wrong one), and "05/03/2024" was read month first in every language.
		{name: "en label colon", langs: []string{"en"}, in: "Published: 05 March 2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "en label with time", langs: []string{"en"}, in: "Published on Tuesday, 05 March 2024 10:30", want: time.Date(2024, 3, 5, 10, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "fr label colon", langs: []string{"fr", "en"}, in: "Publication : 5 mars 2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "de label colon", langs: []string{"de", "en"}, in: "Veröffentlicht: 05. März 2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "el label colon", langs: []string{"el", "en"}, in: "Δημοσιεύθηκε: 05 Μαρτίου 2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "fr numeric in text", langs: []string{"fr", "en"}, in: "Publié le 05/03/2024 à 10h30", want: time.Date(2024, 3, 5, 10, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "fr numeric update", langs: []string{"fr", "en"}, in: "Mis à jour le 12/03/2024", want: day(2024, 3, 12), prec: news.PrecisionDay},
		{name: "de numeric in text", langs: []string{"de", "en"}, in: "Geschrieben von Admin am 05.03.2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "bg numeric in text", langs: []string{"bg", "en"}, in: "Публикувано на 05.03.2024 г.", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "en numeric in text", langs: []string{"en"}, in: "Posted by admin on 03/05/2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		// Year-less days as Chinese, Japanese and German lists write this year's news, and
		// Japanese era and Republic of China years: go-dateparser read "3月5日" in Chinese as
		// 5 December 2023, "12月5日" in Japanese as May 2012, "03-05" as May 2003, "05.03." as
		// 05:03 today and "令和元年5月7日" as 7 May of this year.
		{name: "zh month day", langs: []string{"zh"}, in: "3月5日", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "zh month day last year", langs: []string{"zh"}, in: "12月5日", want: day(2023, 12, 5), prec: news.PrecisionDay},
		{name: "zh month day later this year is last year's", langs: []string{"zh-Hant"}, in: "3月11日", want: day(2023, 3, 11), prec: news.PrecisionDay},
		{name: "zh month day with label", langs: []string{"zh"}, in: "发布时间：3月5号", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "ja month day", langs: []string{"ja"}, in: "12月5日（火）", want: day(2023, 12, 5), prec: news.PrecisionDay},
		{name: "zh numeric month day", langs: []string{"zh"}, in: "[03-05]", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "ja numeric month day", langs: []string{"ja"}, in: "12/25", want: day(2023, 12, 25), prec: news.PrecisionDay},
		{name: "de day month", langs: []string{"de"}, in: "05.03.", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "de day month with label", langs: []string{"de"}, in: "am 5.3.", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "ja reiwa", langs: []string{"ja"}, in: "令和6年3月5日", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "ja reiwa full-width", langs: []string{"ja"}, in: "令和６年１月１６日（火）", want: day(2024, 1, 16), prec: news.PrecisionDay},
		{name: "ja reiwa first year", langs: []string{"ja"}, in: "令和元年5月7日", want: day(2019, 5, 7), prec: news.PrecisionDay},
		{name: "ja heisei", langs: []string{"ja"}, in: "掲載日：平成31年4月1日", want: day(2019, 4, 1), prec: news.PrecisionDay},
		// A range of days in one month, as Japanese and Chinese pages date an event, was
		// read as "17 days ago" (its end, "17日"), a date that moved at every poll.
		{name: "ja day range", langs: []string{"ja"}, in: "2018年3月16日～17日", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "ja day range wave dash", langs: []string{"ja"}, in: "2018年3月16日〜17日", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "ja day range weekdays", langs: []string{"ja"}, in: "令和6年1月16日（火）～17日（水）", want: day(2024, 1, 16), prec: news.PrecisionDay},
		{name: "zh day range", langs: []string{"zh"}, in: "2018年3月16日-17日", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "zh day range zhi", langs: []string{"zh"}, in: "2018年3月16日至17日", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "zh roc year", langs: []string{"zh-Hant"}, in: "民國113年2月20日", want: day(2024, 2, 20), prec: news.PrecisionDay},
		// Hebrew glues its prepositions to a date with a hyphen: the date was not read, and
		// with a time only the time was (today at 10:30).
		{name: "he prefixed numeric", langs: []string{"he"}, in: "פורסם ב-16.01.2024", want: day(2024, 1, 16), prec: news.PrecisionDay},
		{name: "he prefixed numeric with time", langs: []string{"he"}, in: "עודכן ב-05/03/2024 10:30", want: time.Date(2024, 3, 5, 10, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		// A date of the Hebrew calendar was no date, and beside a time the poll's day at that
		// time: it is read (25 Kislev 5786 is 15 December 2025), and one that cannot be
		// read (no year, a plain Adar of a leap year) dates nothing.
		{name: "he hebrew calendar", langs: []string{"he"}, in: "כ״ה בכסלו תשפ״ו", want: day(2025, 12, 15), prec: news.PrecisionDay},
		{name: "he hebrew calendar ascii quotes", langs: []string{"he"}, in: `כ"ה כסלו התשפ"ו`, want: day(2025, 12, 15), prec: news.PrecisionDay},
		{name: "he hebrew calendar with label and time", langs: []string{"he"}, in: "פורסם: יום ב׳, כ״ה בכסלו ה׳תשפ״ו 10:30", want: time.Date(2025, 12, 15, 10, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "he hebrew calendar adar II", langs: []string{"he"}, in: "י״ד באדר ב׳ תשפ״ד", want: day(2024, 3, 24), prec: news.PrecisionDay},
		{name: "he hebrew calendar without year and a time", langs: []string{"he"}, in: "כ״ה בכסלו 10:30", nodate: true},
		{name: "he hebrew calendar plain adar of a leap year", langs: []string{"he"}, in: "י״ד באדר תשפ״ד 10:30", nodate: true},
		{name: "he hebrew calendar beside the gregorian", langs: []string{"he"}, in: "כ״ג בכסלו 15.12.2025", want: day(2025, 12, 15), prec: news.PrecisionDay},
		// French abbreviates September "sept", which go-dateparser read as the number seven
		// (4 July); and an abbreviated month's dot split a labelled date from its year (4
		// December of the current year, April for "Dec. 4, 2023").
		{name: "fr sept abbreviation", langs: []string{"fr"}, in: "4 sept. 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "fr sept abbreviation no dot", langs: []string{"fr"}, in: "4 sept 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "fr sept abbreviation month", langs: []string{"fr"}, in: "sept. 2023", want: day(2023, 9, 1), prec: news.PrecisionMonth},
		{name: "fr label abbreviated month", langs: []string{"fr"}, in: "Publié le 4 déc. 2022", want: day(2022, 12, 4), prec: news.PrecisionDay},
		{name: "fr label sept abbreviation", langs: []string{"fr"}, in: "Publié le 4 sept. 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "de label abbreviated month", langs: []string{"de"}, in: "Veröffentlicht am 4. Dez. 2022", want: day(2022, 12, 4), prec: news.PrecisionDay},
		{name: "en label abbreviated month first", langs: []string{"en"}, in: "Published on Dec. 4, 2023", want: day(2023, 12, 4), prec: news.PrecisionDay},
		// Italian abbreviates September "sett." (go-dateparser's Italian: settimana, "4 weeks
		// ago"), German February "Febr." (no date, or April 2023 with a label), and an issue
		// number with its year was read as a month ("Nr. 12/2023": December 2023).
		{name: "it sett abbreviation", langs: []string{"it"}, in: "4 sett. 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "it sett abbreviation no dot", langs: []string{"it"}, in: "4 sett 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "it label sett abbreviation", langs: []string{"it"}, in: "Pubblicato il 4 sett. 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "it sett abbreviation with time", langs: []string{"it"}, in: "4 sett 2023 alle 10:30", want: time.Date(2023, 9, 4, 10, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "it sett range", langs: []string{"it"}, in: "dal 4 sett. al 3 ott. 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "it set abbreviation italian second", langs: []string{"en", "it"}, in: "4 set. 2023", want: day(2023, 9, 4), prec: news.PrecisionDay},
		{name: "it sett weeks ago stays relative", langs: []string{"it"}, in: "4 sett. fa", want: day(2024, 2, 11), prec: news.PrecisionDay},
		{name: "it other abbreviations", langs: []string{"it"}, in: "Pubblicato il 4 gen. 2023", want: day(2023, 1, 4), prec: news.PrecisionDay},
		{name: "de febr abbreviation", langs: []string{"de"}, in: "4. Febr. 2024", want: day(2024, 2, 4), prec: news.PrecisionDay},
		{name: "de label febr abbreviation", langs: []string{"de"}, in: "Veröffentlicht am 4. Febr. 2024", want: day(2024, 2, 4), prec: news.PrecisionDay},
		{name: "en volume is no date", langs: []string{"en"}, in: "Vol. 12, 2023", nodate: true},
		{name: "en issue number is no date", langs: []string{"en"}, in: "No. 12, 2023", nodate: true},
		{name: "de issue number is no date", langs: []string{"de"}, in: "Nr. 12/2023", nodate: true},
		{name: "de Ausgabe is no date", langs: []string{"de"}, in: "Ausgabe 3/2024", nodate: true},
		{name: "de issue number beside a date", langs: []string{"de"}, in: "Nr. 3/2024 · 4. März 2024", want: day(2024, 3, 4), prec: news.PrecisionDay},
		// A double issue ("1-2/2024") was 2 January; an issue number before a range in
		// digits left "-01/2024", the 1st of the poll's month (with an en dash: January).
		{name: "de double issue is no date", langs: []string{"de"}, in: "Ausgabe 1-2/2024", nodate: true},
		{name: "de double issue beside a date", langs: []string{"de"}, in: "Ausgabe 1-2/2024 · 4. März 2024", want: day(2024, 3, 4), prec: news.PrecisionDay},
		{name: "de issue number before a month range", langs: []string{"de"}, in: "Nr. 12/2023-01/2024", want: day(2024, 1, 1), prec: news.PrecisionMonth},
		{name: "en month and year in digits", langs: []string{"en"}, in: "12/2023", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		// A month and year in digits, as newsletter and report listings date an issue, were
		// read whole in the order of a member that writes the day first: 12 March 2023.
		{name: "fr month and year in digits", langs: []string{"fr"}, in: "12/2023", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "de month and year in digits", langs: []string{"de"}, in: "12/2023", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "de month and year with dot", langs: []string{"de"}, in: "03.2024", want: day(2024, 3, 1), prec: news.PrecisionMonth},
		{name: "it month and year one digit", langs: []string{"it"}, in: "3/2024", want: day(2024, 3, 1), prec: news.PrecisionMonth},
		{name: "fr month and year with label", langs: []string{"fr"}, in: "Lettre d’information 12/2023", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "fr day month year stays a day", langs: []string{"fr"}, in: "05/12/2023", want: day(2023, 12, 5), prec: news.PrecisionDay},
		{name: "fr thirteenth month is no date", langs: []string{"fr"}, in: "13/2023", nodate: true},
		// A two-month newsletter issue is dated by its first month: it was no date.
		{name: "fr month range", langs: []string{"fr"}, in: "sept.-oct. 2023", want: day(2023, 9, 1), prec: news.PrecisionMonth},
		{name: "fr month range in full", langs: []string{"fr"}, in: "juillet-août 2024", want: day(2024, 7, 1), prec: news.PrecisionMonth},
		{name: "it month range", langs: []string{"it"}, in: "sett.-ott. 2023", want: day(2023, 9, 1), prec: news.PrecisionMonth},
		{name: "en month range en dash", langs: []string{"en"}, in: "Sept–Oct 2023", want: day(2023, 9, 1), prec: news.PrecisionMonth},
		{name: "en month range slash", langs: []string{"en"}, in: "November/December 2023", want: day(2023, 11, 1), prec: news.PrecisionMonth},
		{name: "de month range", langs: []string{"de"}, in: "Juli/August 2024", want: day(2024, 7, 1), prec: news.PrecisionMonth},
		{name: "es month range de", langs: []string{"es"}, in: "julio-agosto de 2024", want: day(2024, 7, 1), prec: news.PrecisionMonth},
		{name: "de month range over the new year", langs: []string{"de"}, in: "Dezember/Januar 2024", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "en month range in a title", langs: []string{"en"}, in: "Newsletter Sept-Oct 2023: news from the network", want: day(2023, 9, 1), prec: news.PrecisionMonth},
		{name: "fr label abbreviated month and year", langs: []string{"fr"}, in: "Publié en déc. 2023", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "de label abbreviated month and year", langs: []string{"de"}, in: "Erschienen im Dez. 2023", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		// A range of months or days in digits joined by a plain hyphen was no date, or the
		// wrong one (January 2023, June 2024); with an en dash it was its first.
		{name: "fr month range in digits hyphen", langs: []string{"fr"}, in: "12/2023-01/2024", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "en month range in digits hyphen", langs: []string{"en"}, in: "12/2023-01/2024", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "de month range in digits with dots", langs: []string{"de"}, in: "12.2023-01.2024", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "fr month range in digits with hyphens", langs: []string{"fr"}, in: "12-2023-01-2024", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "fr month range in digits with label", langs: []string{"fr"}, in: "Lettre 12/2023-01/2024 du réseau", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "fr month range in digits en dash", langs: []string{"fr"}, in: "12/2023–01/2024", want: day(2023, 12, 1), prec: news.PrecisionMonth},
		{name: "de day range in digits hyphen", langs: []string{"de"}, in: "05.03.2024-06.03.2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "fr day range in digits hyphen", langs: []string{"fr"}, in: "du 05/03/2024-06/03/2024 à Genève", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "en day range in digits hyphen", langs: []string{"en"}, in: "03/05/2024-03/06/2024", want: day(2024, 3, 5), prec: news.PrecisionDay},
		{name: "fr day with hyphens stays a day", langs: []string{"fr"}, in: "12-01-2024", want: day(2024, 1, 12), prec: news.PrecisionDay},
		{name: "fr day range with hyphens", langs: []string{"fr"}, in: "12-01-2024-13-01-2024", want: day(2024, 1, 12), prec: news.PrecisionDay},
		{name: "de compound word is no month range", langs: []string{"de"}, in: "Sommer-Newsletter 2023", nodate: true},
		// An update date beside a publication date: the publication date wins, before or
		// after it (the update date was read when it came first). An update date alone is
		// the item's date ("Mis à jour le …" was no date).
		{name: "en updated then published", langs: []string{"en"}, in: "Updated 4 December 2025 · Published 2 December 2025", want: day(2025, 12, 2), prec: news.PrecisionDay},
		{name: "en published then updated", langs: []string{"en"}, in: "Published 2 December 2025 · Updated 4 December 2025", want: day(2025, 12, 2), prec: news.PrecisionDay},
		{name: "en updated originally published", langs: []string{"en"}, in: "Updated December 4, 2025, originally published December 2, 2025", want: day(2025, 12, 2), prec: news.PrecisionDay},
		{name: "de updated then published", langs: []string{"de"}, in: "Aktualisiert am 4. Dezember 2025, veröffentlicht am 2. Dezember 2025", want: day(2025, 12, 2), prec: news.PrecisionDay},
		{name: "fr updated then published", langs: []string{"fr"}, in: "Mis à jour le 4 décembre 2025 - Publié le 2 décembre 2025", want: day(2025, 12, 2), prec: news.PrecisionDay},
		{name: "ja updated then published", langs: []string{"ja"}, in: "更新日：2019年3月5日 公開日：2019年3月1日", want: day(2019, 3, 1), prec: news.PrecisionDay},
		{name: "en updated then a date", langs: []string{"en"}, in: "Updated 4 December 2025 · 2 December 2025", want: day(2025, 12, 2), prec: news.PrecisionDay},
		{name: "fr update only", langs: []string{"fr"}, in: "Mis à jour le 4 décembre 2025", want: day(2025, 12, 4), prec: news.PrecisionDay},
		{name: "fr update only mise", langs: []string{"fr"}, in: "Mise à jour le 4 décembre 2025", want: day(2025, 12, 4), prec: news.PrecisionDay},
		{name: "en update only", langs: []string{"en"}, in: "Updated 4 December 2025", want: day(2025, 12, 4), prec: news.PrecisionDay},
		{name: "de update only", langs: []string{"de"}, in: "Aktualisiert am 4. Dezember 2025", want: day(2025, 12, 4), prec: news.PrecisionDay},
		{name: "en update beside a count", langs: []string{"en"}, in: "Updated 4 December 2025 · 12 comments", want: day(2025, 12, 4), prec: news.PrecisionDay},
		// A clock time written with an hour word was read as hours ago: "à 10h" was ten
		// hours before the poll, a date that moved at every poll, "um 10 Uhr" the 10th.
		{name: "fr clock time hour word", langs: []string{"fr"}, in: "Publié le 04/03/2024 à 10h", want: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "fr clock time spaced", langs: []string{"fr"}, in: "le 4 mars 2024 à 10 h 15", want: time.Date(2024, 3, 4, 10, 15, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "pt clock time hour word", langs: []string{"pt"}, in: "4 de março de 2024 às 10h", want: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "es clock time hour word", langs: []string{"es"}, in: "4 de marzo de 2024 a las 10 h", want: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "de clock time Uhr", langs: []string{"de"}, in: "4. März 2024 um 10 Uhr", want: time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "bg clock time", langs: []string{"bg"}, in: "04.03.2024, 10:15 ч.", want: time.Date(2024, 3, 4, 10, 15, 0, 0, time.UTC), prec: news.PrecisionExact},
		// Argentina and Uruguay write the hour "18 hs" (and "18 hrs"): the hour word "h"
		// matched first and, a letter following it, the time stayed "18 hours ago" (or the
		// 18th, or January).
		{name: "es clock time hs", langs: []string{"es"}, in: "Publicado el 4 de marzo de 2024 a las 18 hs", want: time.Date(2024, 3, 4, 18, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "es clock time hs beside the date", langs: []string{"es"}, in: "4 de marzo de 2024 18 hs", want: time.Date(2024, 3, 4, 18, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "es clock time hrs", langs: []string{"es"}, in: "04/03/2024 - 18 hrs", want: time.Date(2024, 3, 4, 18, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "es clock time hs no space", langs: []string{"es"}, in: "04/03/2024 - 18hs", want: time.Date(2024, 3, 4, 18, 0, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "fr hours ago stays relative", langs: []string{"fr"}, in: "il y a 3 h", want: day(2024, 3, 10), prec: news.PrecisionDay},
		// A capitalised word holding a Z after a date (a place, or Joomla's German hit
		// counter "Zugriffe") was taken for the time zone Z: no date, or the day of the
		// month in the poll's year.
		{name: "en date before Zurich", langs: []string{"en"}, in: "16 March 2018 Zurich", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "en label date before Zurich", langs: []string{"en"}, in: "Posted on 16 March 2018, Zurich office", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "de date before Zürich", langs: []string{"de"}, in: "16. März 2018, Zürich", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "de joomla hits", langs: []string{"de"}, in: "Details Veröffentlicht: 16. März 2018 Zugriffe: 1234", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "de joomla hits without label", langs: []string{"de"}, in: "16. März 2018 Zugriffe: 1234", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "es date before Zaragoza", langs: []string{"es"}, in: "16 de marzo de 2018 Zaragoza", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "pl date before Zakopane", langs: []string{"pl"}, in: "16 marca 2018 Zakopane", want: day(2018, 3, 16), prec: news.PrecisionDay},
		{name: "en time zone still read", langs: []string{"en"}, in: "16 March 2018 10:30 CET, Geneva", want: time.Date(2018, 3, 16, 9, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "en time zone before words still read", langs: []string{"en"}, in: "Posted 16 March 2018 10:30 EST by admin", want: time.Date(2018, 3, 16, 15, 30, 0, 0, time.UTC), prec: news.PrecisionExact},
		{name: "title is no date", langs: []string{"en"}, in: "ISS PAC meets in Athens", nodate: true},
		{name: "bare year is no date", langs: []string{"en"}, in: "ISS Global Report 2016", nodate: true},
		{name: "image caption", langs: []string{"en"}, in: "Capture1", nodate: true},
		{name: "empty", langs: []string{"en"}, in: "  ", nodate: true},
		{name: "text without year", langs: []string{"en"}, in: "The experts met last week in the 3rd room of the Palais des Nations to discuss", nodate: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, prec, ok := ParseDate(c.in, Options{Languages: c.langs, Now: now, Location: c.loc})
			if c.nodate {
				if ok {
					t.Fatalf("ParseDate(%q) = %v %q, want no date", c.in, got, prec)
				}
				return
			}
			if !ok {
				t.Fatalf("ParseDate(%q): no date, want %v", c.in, c.want)
			}
			if !got.Equal(c.want) || prec != c.prec {
				t.Errorf("ParseDate(%q) = %v %q, want %v %q", c.in, got, prec, c.want, c.prec)
			}
		})
	}
}

// A page's date searches of running text stop once they have taken searchBudget: crafted
// text ("-1" a hundred times) costs go-dateparser up to a third of a second a search, and
// a page may try nine texts for each of 500 items (found by a helper's fuzzing audit: an
// 18 KB page took 5 s of CPU, and the bound was minutes). Past the budget, whole date
// labels and ISO dates still read.
func TestDateSearchBudget(t *testing.T) {
	defer func(b time.Duration) { searchBudget = b }(searchBudget)
	searchBudget = time.Nanosecond
	d := newDateParser(Options{Languages: []string{"en", "fr"}, Now: corpusNow})
	crafted := strings.Repeat("-1", 100)
	for range 5 {
		d.parse(crafted)
	}
	if d.searches != 1 || d.skipped != 4 {
		t.Errorf("%d searches made and %d refused, want 1 and 4 (the budget spent by the first)", d.searches, d.skipped)
	}
	for _, label := range []string{"12 March 2024", "2024-03-12", "12/03/2024"} {
		if _, _, ok := d.parse(label); !ok {
			t.Errorf("%q not read once the search budget is spent", label)
		}
	}
	if _, _, ok := d.parse("May 2017: An ISS expert group headed to the Kingdom of Morocco to support the reform"); ok {
		t.Error("a date in running text was searched for past the budget")
	}
}

// A page showing "2 hours ago" shows it for an hour: read at two polls half an hour apart,
// the date is the same (it was two different times, so an item with no link, known by its
// title and date, came back as a new item at each poll).
func TestRelativeTimeStaysPut(t *testing.T) {
	first := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct{ lang, in string }{{"en", "2 hours ago"}, {"de", "vor 3 Stunden"}, {"fr", "il y a 45 minutes"}, {"es", "hace 2 horas"}} {
		a, pa, oka := ParseDate(c.in, Options{Languages: []string{c.lang}, Now: first})
		b, pb, okb := ParseDate(c.in, Options{Languages: []string{c.lang}, Now: first.Add(30 * time.Minute)})
		if !oka || !okb || !a.Equal(b) || pa != pb {
			t.Errorf("%s %q: %v %q (%v) at 12:00, %v %q (%v) at 12:30: want the same date", c.lang, c.in, a, pa, oka, b, pb, okb)
		}
	}
}

// A clock time on a relative day ("yesterday at 10:30") is the same time all day: read
// in the day's last hour (when an hour later is the next day) it kept its time too. A
// date with its year is read once (the check for a relative time costs a second parse,
// a search of running text against the page's budget).
func TestRelativeDayClockTimeStaysPut(t *testing.T) {
	for _, c := range []struct{ lang, in string }{{"en", "Yesterday at 10:30"}, {"en", "Today, 10:30"}, {"fr", "hier à 10h30"}} {
		o := Options{Languages: []string{c.lang}}
		o.Now = time.Date(2024, 3, 10, 22, 30, 0, 0, time.UTC)
		a, pa, oka := ParseDate(c.in, o)
		o.Now = time.Date(2024, 3, 10, 23, 30, 0, 0, time.UTC)
		b, pb, okb := ParseDate(c.in, o)
		if !oka || !okb || !a.Equal(b) || pa != pb {
			t.Errorf("%s %q: %v %q at 22:30, %v %q at 23:30: want the same date", c.lang, c.in, a, pa, b, pb)
		}
	}
	d := newDateParser(Options{Languages: []string{"en"}, Now: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)})
	d.parse("Written by Admin. Published on Tuesday, 05 March 2024 10:30. The network held its annual meeting in Geneva")
	if d.searches != 1 {
		t.Errorf("%d searches for one dated text, want 1", d.searches)
	}
}

// Dates next to each other are both rewritten: a match takes the character after its
// date, which may start the next one.
func TestIsoNumericDatesAdjacent(t *testing.T) {
	for in, want := range map[string]string{
		"05/03/2024–12/03/2024":        "2024-03-05–2024-03-12",
		"du 05/03/2024 06/03/2024 fin": "du 2024-03-05 2024-03-06 fin",
	} {
		if got := isoNumericDates(in, dmy("fr")); got != want {
			t.Errorf("isoNumericDates(%q) = %q, want %q", in, got, want)
		}
	}
}

// An English-writing member reads all-digit dates in its country's order: 5 March in
// Australia or Britain, 3 May in the United States; a regional language tag says the
// same without a country.
func TestNumericDatesInTheMembersCountryOrder(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	march5, may3 := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		langs   []string
		country string
		want    time.Time
	}{
		{[]string{"en"}, "AU", march5},
		{[]string{"en"}, "GB", march5},
		{[]string{"en"}, "US", may3},
		{[]string{"en"}, "", may3},
		{[]string{"en-GB"}, "", march5},
		{[]string{"fr"}, "CH", march5},
		// Locales that put the year first keep their language's order.
		{[]string{"fr"}, "CA", march5},
		{[]string{"en"}, "CA", may3},
	} {
		for _, in := range []string{"05/03/2024", "Posted on 05/03/2024 by the secretariat", "2024/03/05", "2024.03.05"} {
			want := c.want
			if strings.HasPrefix(in, "2024") {
				want = march5 // year first: year, month, day everywhere
			}
			got, _, ok := ParseDate(in, Options{Languages: c.langs, Country: c.country, Now: now})
			if !ok || !got.Equal(want) {
				t.Errorf("%v %q: ParseDate(%q) = %v (%v), want %v", c.langs, c.country, in, got, ok, want)
			}
		}
	}
}

// "sept.-oct. 2023" (a French two-month issue) is no 7 October: "sept" before a dash is
// September too, and the issue is dated by its first month (monthRanges).
func TestSeptemberBeforeADash(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, in := range []string{"sept.-oct. 2023", "sept.–oct. 2023", "Publié en sept.-oct. 2023"} {
		if d, p, ok := ParseDate(in, Options{Languages: []string{"fr"}, Now: now}); !ok || d.Month() != time.September || d.Year() != 2023 || p != news.PrecisionMonth {
			t.Errorf("%q read as %v (%s, %v), want September 2023", in, d, p, ok)
		}
	}
	if d, _, ok := ParseDate("sept jours de formation", Options{Languages: []string{"fr"}, Now: now}); ok && d.Month() == time.September {
		t.Errorf("\"sept jours\" (seven days) read as September: %v", d)
	}
}

// "sept" after a day is September, whatever follows it: a range of days ("17 sept.-3 oct.
// 2023", "du 17 sept. au 3 oct. 2023") and "17-sept-2024" were 17 July.
func TestSeptemberAfterADay(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, in := range []string{"17 sept.-3 oct. 2023", "du 17 sept. au 3 oct. 2023", "17 sept. – 3 oct. 2023", "Publié le 17-sept-2023"} {
		if d, p, ok := ParseDate(in, Options{Languages: []string{"fr"}, Now: now}); ok && (d.Month() != time.September || d.Year() != 2023) {
			t.Errorf("%q read as %v (%s), want September 2023 or no date", in, d, p)
		}
	}
	if d, _, ok := ParseDate("Publié le 17 septembre 2023", Options{Languages: []string{"fr"}, Now: now}); !ok || d.Month() != time.September || d.Day() != 17 {
		t.Errorf("\"17 septembre 2023\" read as %v, %v", d, ok)
	}
}

// The Hebrew calendar's new years and feasts, as published, read from their Hebrew dates.
func TestHebrewDate(t *testing.T) {
	for _, c := range []struct {
		year  int
		month string
		day   int
		want  string
	}{
		{5783, "תשרי", 1, "2022-09-26"},
		{5784, "תשרי", 1, "2023-09-16"},
		{5785, "תשרי", 1, "2024-10-03"},
		{5786, "תשרי", 10, "2025-10-02"},
		{5787, "תשרי", 1, "2026-09-12"},
		{5785, "כסלו", 25, "2024-12-26"},
		{5784, "אדר ב׳", 14, "2024-03-24"},
		{5785, "אדר", 14, "2025-03-14"},
		{5784, "ניסן", 15, "2024-04-23"},
		{5785, "ניסן", 15, "2025-04-13"},
		{5786, "שבט", 15, "2026-02-02"},
	} {
		got, ok := hebrewDate(c.year, c.month, c.day)
		if !ok || got.Format("2006-01-02") != c.want {
			t.Errorf("hebrewDate(%d, %s, %d) = %v (%v), want %s", c.year, c.month, c.day, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		year  int
		month string
		day   int
	}{{5786, "חשון", 30}, {5785, "אדר ב׳", 14}, {5784, "אדר", 14}, {5786, "תמוז", 30}} {
		if got, ok := hebrewDate(c.year, c.month, c.day); ok {
			t.Errorf("hebrewDate(%d, %s, %d) = %v, want no day", c.year, c.month, c.day, got)
		}
	}
}

// A date text is read to its first maxParseLen runes: a date selector matching a whole
// listing (90 KB) had every rewrite run over all of it before the search, a quarter of a
// second per item outside searchBudget (BenchmarkParseDateLongText). The date leading it
// is still read.
func TestLongDateText(t *testing.T) {
	d := newDateParser(Options{Languages: []string{"fr", "en"}, Now: corpusNow})
	got, p, ok := d.parse(longDateText())
	if want := time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC); !ok || !got.Equal(want) || p != news.PrecisionDay {
		t.Errorf("parse(long text) = %v %q %v, want %v", got, p, ok, want)
	}
	if d.read > maxParseLen {
		t.Errorf("parse read %d runes of a %d-byte text, want at most %d", d.read, len(longDateText()), maxParseLen)
	}
	for _, c := range []struct{ in, want string }{
		{" 12\n\t March   2024 ", "12 March 2024"},
		{"12 March 2024 " + strings.Repeat("word ", 200), "12 March 2024 " + strings.TrimSpace(strings.Repeat("word ", 77))},
		{strings.Repeat("-1", 1000), strings.Repeat("-1", maxParseLen/2)},
		{strings.Repeat("é", 1000), strings.Repeat("é", maxParseLen)},
	} {
		if got := dateWords(c.in); got != c.want {
			t.Errorf("dateWords(%.30q…) = %.30q… (%d runes), want %.30q… (%d)", c.in, got, len([]rune(got)), c.want, len([]rune(c.want)))
		}
	}
}
