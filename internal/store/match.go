package store

import (
	"slices"
	"strings"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
)

// Matcher returns the predicate for every field of q that is not a timeline position
// (Members, Country, Region, Language, Category, Text, Since, Listed). Backends walk the most
// selective index and filter what they read with it, so every backend filters alike.
func Matcher(q news.Query) func(*news.Item) bool {
	words := strings.Fields(apostrophes.Replace(identity.Fold(q.Text)))
	// A reader types l'enfance, a site writes l’enfance (or the other way round): when a
	// word has an apostrophe, the text's are read as one kind too. Only then: the
	// replacement costs a copy of every item's text a search walks.
	anyApostrophe := slices.ContainsFunc(words, func(w string) bool { return strings.Contains(w, "'") })
	return func(it *news.Item) bool {
		if len(q.Members) > 0 && !slices.Contains(q.Members, it.Member) {
			return false
		}
		if q.Listed != nil && !q.Listed(it.Member) {
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
			hay := identity.Fold(it.Title + " " + it.Summary)
			if anyApostrophe {
				hay = apostrophes.Replace(hay)
			}
			for _, w := range words {
				if !strings.Contains(hay, w) {
					return false
				}
			}
		}
		return true
	}
}

// apostrophes writes the typographic apostrophes (right single quotation mark, modifier
// letter apostrophe, left single quotation mark) as the typewriter one.
var apostrophes = strings.NewReplacer("\u2019", "'", "\u02bc", "'", "\u2018", "'")
