package publish

import (
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// fixtureItem is a fixture item with what its title must read as once published.
type fixtureItem struct {
	item      news.Item
	wantTitle string // after stripping characters invalid in XML
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fixtureItems is a multilingual set of items, newest first: French with accents and two
// other members that published the same story, Hebrew, Japanese with a month-precision
// date, an undated item with characters invalid in XML, and one whose plain text holds
// "]]>" and "<script>".
func fixtureItems() []fixtureItem {
	return []fixtureItem{
		{
			item: news.Item{
				ID: "01HZX3K8Q2V7B4N6M9P0R1S2T3", Member: "fr", Country: "FR",
				Source: "https://www.iss-france.example.org/actualites/rss.xml",
				Title:  "Journée mondiale de l’enfance : l’ISS s’engage pour les enfants séparés",
				Link:   "https://www.iss-france.example.org/actualites/journee-mondiale-de-l-enfance",
				Summary: "Les équipes d’ISS France ont présenté leurs travaux à Genève, " +
					"avec des partenaires de Suisse et du Japon.",
				Content:    `<p>Les équipes d’ISS France ont présenté leurs travaux à <a href="https://www.iss-france.example.org/geneve">Genève</a>.</p>`,
				Author:     "Hélène Dupré",
				Image:      "https://www.iss-france.example.org/images/enfance.jpg",
				Categories: []string{"Protection de l’enfance", "Événements"},
				Language:   "fr",
				Published:  ts("2024-11-20T09:30:00+01:00"),
				Updated:    ts("2024-11-20T10:00:00+01:00"),
				FirstSeen:  ts("2024-11-20T09:45:00Z"),
				ClusterID:  "01HZX3K8Q2V7B4N6M9P0R1S2T3",
				AlsoBy:     []string{"ch", "jp"},
			},
			wantTitle: "Journée mondiale de l’enfance : l’ISS s’engage pour les enfants séparés",
		},
		{
			item: news.Item{
				ID: "01HZX2A1B2C3D4E5F6G7H8J9K0", Member: "il", Country: "IL",
				Source:    "https://www.iss-israel.example.org/",
				Title:     "שירות סוציאלי בינלאומי: דוח שנתי",
				Link:      "https://www.iss-israel.example.org/news/annual-report",
				Summary:   "הדוח השנתי של הסניף הישראלי פורסם היום.",
				Language:  "he",
				Published: ts("2024-11-18T08:00:00+02:00"),
				Updated:   ts("2024-11-18T08:00:00+02:00"),
				FirstSeen: ts("2024-11-18T07:00:00Z"),
			},
			wantTitle: "שירות סוציאלי בינלאומי: דוח שנתי",
		},
		{
			item: news.Item{
				ID: "01HZX1JP0000000000000000MO", Member: "jp", Country: "JP",
				Source:     "https://www.iss-japan.example.org/news/",
				Title:      "国際社会事業団の新しい報告書",
				Link:       "https://www.iss-japan.example.org/news/2024/05/report.html",
				Content:    "<p>国際養子縁組に関する報告書を公開しました。</p>",
				Categories: []string{"報告書"},
				Language:   "ja",
				Published:  ts("2024-05-01T00:00:00Z"),
				Precision:  news.PrecisionMonth,
				Updated:    ts("2024-11-15T12:00:00Z"),
				FirstSeen:  ts("2024-11-15T12:00:00Z"),
			},
			wantTitle: "国際社会事業団の新しい報告書",
		},
		{
			item: news.Item{
				ID: "01HZX0UNDATED0000000000000", Member: "ch", Country: "CH",
				Source:    "https://www.iss-switzerland.example.org/en/news",
				Title:     "Annual\x00 report\x0b 2024\ufffe — control\x1f characters\uffff",
				Link:      "https://www.iss-switzerland.example.org/en/news/annual-report-2024",
				Summary:   "Tab\there, bell\x07, form feed\x0c and a bad byte \xff end.",
				Language:  "en",
				Published: ts("2024-11-10T06:00:00Z"),
				Precision: news.PrecisionNone,
				FirstSeen: ts("2024-11-10T06:00:00Z"),
			},
			wantTitle: "Annual report 2024 — control characters",
		},
		{
			item: news.Item{
				ID: "01HZW9SCRIPT00000000000000", Member: "xx",
				Source:     "https://unknown-member.example.org/feed",
				Title:      `Fees & costs: <script>alert("x")</script> ]]> done`,
				Link:       "https://unknown-member.example.org/news?id=7&lang=en",
				Summary:    `Plain text with <script>alert('x')</script>, "quotes" & a]]>b.`,
				Content:    `<p>Ends a CDATA: a]]>b &amp; &lt;script&gt;alert(1)&lt;/script&gt;</p>`,
				Categories: []string{"<b>bold</b> & co"},
				Language:   "en",
				Published:  ts("2024-11-01T12:00:00-05:00"),
				Updated:    ts("2024-11-02T12:00:00-05:00"),
				FirstSeen:  ts("2024-11-01T18:00:00Z"),
			},
			wantTitle: `Fees & costs: <script>alert("x")</script> ]]> done`,
		},
	}
}

// fixtureFeed returns the full fixture feed (format is the one being written) or, with
// empty, the same feed without items.
func fixtureFeed(format string, empty bool) Feed {
	urls := map[string]string{
		FormatRSS:  "https://news.iss-network.example.org/feed.rss",
		FormatAtom: "https://news.iss-network.example.org/feed.atom",
		FormatJSON: "https://news.iss-network.example.org/feed.json",
	}
	f := Feed{
		Title:       "ISS network news",
		Description: "News from the members of the International Social Service network",
		HTMLURL:     "https://news.iss-network.example.org/",
		SelfURL:     urls[format],
		FeedURLs:    urls,
		Language:    "en",
		Updated:     ts("2024-11-20T10:00:00+01:00"),
		Members: map[string]Member{
			"fr": {ID: "fr", Name: "ISS France", Homepage: "https://www.iss-france.example.org/", Country: "FR"},
			"il": {ID: "il", Name: "ISS Israel", Homepage: "https://www.iss-israel.example.org/", Country: "IL"},
			"jp": {ID: "jp", Name: "ISS Japan 日本", Homepage: "https://www.iss-japan.example.org/", Country: "JP"},
			"ch": {ID: "ch", Name: "SSI Suisse", Homepage: "https://www.iss-switzerland.example.org/", Country: "CH"},
		},
		NextURL: "https://news.iss-network.example.org/feed." + format + "?before=2024-11-01T17%3A00%3A00Z~01HZW9SCRIPT00000000000000",
		Hub:     "https://hub.iss-network.example.org/",
	}
	// The subscription document: its older page is also its previous archive (RFC 5005).
	f.FirstURL, f.PrevArchiveURL = f.SelfURL, f.NextURL
	if empty {
		f.Updated = ts("2024-11-21T00:00:00Z")
		f.NextURL, f.FirstURL, f.PrevArchiveURL = "", "", ""
		return f
	}
	for _, fi := range fixtureItems() {
		f.Items = append(f.Items, fi.item)
	}
	return f
}
