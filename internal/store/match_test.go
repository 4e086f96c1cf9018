package store

import (
	"testing"

	"github.com/iss-network/networkfeed/internal/news"
)

// TestMatcherApostrophes: words are found whichever apostrophe the reader typed and the
// site wrote (a keyboard's l'enfance, a French site's l’enfance).
func TestMatcherApostrophes(t *testing.T) {
	for _, c := range []struct {
		name, text, title string
		want              bool
	}{
		{"typed finds typographic", "l'enfance", "Protection de l’enfance", true},
		{"typographic finds typed", "L’ENFANCE", "Protection de l'enfance", true},
		{"modifier letter apostrophe", "aujourd'hui", "Aujourdʼhui à Genève", true},
		{"without apostrophe as before", "enfance", "Protection de l’enfance", true},
		{"other words still count", "l'enfance adoption", "Protection de l’enfance", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			it := news.Item{Title: c.title}
			if got := Matcher(news.Query{Text: c.text})(&it); got != c.want {
				t.Errorf("q=%q on %q: %v, want %v", c.text, c.title, got, c.want)
			}
		})
	}
}
