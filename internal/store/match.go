package store

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/iss-network/networkfeed/internal/news"
)

// Matcher returns the predicate for every field of q that is not a timeline position
// (Members, Country, Region, Language, Category, Text, Since). Backends walk the most
// selective index and filter what they read with it, so every backend filters alike.
func Matcher(q news.Query) func(*news.Item) bool {
	words := strings.Fields(Fold(q.Text))
	return func(it *news.Item) bool {
		if len(q.Members) > 0 && !slices.Contains(q.Members, it.Member) {
			return false
		}
		if q.Country != "" && !strings.EqualFold(q.Country, it.Country) {
			return false
		}
		if q.Region != "" && !strings.EqualFold(q.Region, it.Region) {
			return false
		}
		if q.Language != "" && q.Language != it.Language {
			return false
		}
		if q.Category != "" && !slices.ContainsFunc(it.Categories, func(c string) bool { return strings.EqualFold(c, q.Category) }) {
			return false
		}
		if !q.Since.IsZero() && it.SortTime().Before(q.Since) {
			return false
		}
		if len(words) > 0 {
			hay := Fold(it.Title + " " + it.Summary)
			for _, w := range words {
				if !strings.Contains(hay, w) {
					return false
				}
			}
		}
		return true
	}
}

// Fold lower-cases s and removes accents ("Médiation" -> "mediation"), for search in any language.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}
