package store

import (
	"slices"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// FiltersContent reports whether q filters on what each copy of a story says for itself
// (its language, categories, words) or on where it came from (Listed). Clustered reads
// show a story once, from its shown copy; such a filter can leave that copy out and keep
// a hidden one, which then stands in for the story (StandsIn): a French member's copy of
// a story the GS published in English is the story in a French selection, and a
// branch's copy is the story once the GS's source is removed from the config.
func FiltersContent(q news.Query) bool {
	return q.Language != "" || q.Category != "" || q.Text != "" || q.Listed != nil
}

// StandsIn reports whether the copy id of the story of the cluster with entries es
// stands in for it in a clustered read filtered by q (FiltersContent): whether it comes
// before every other copy q matches, in the cluster's order (Earlier: the shown copy
// first). Dates are left out of the comparison (a story published before q.Since stays
// out, however new a copy of it). The caller has matched the copy itself against q;
// read reads another copy.
func StandsIn(q news.Query, id string, es []ClusterEntry, read func(id string) (news.Item, bool, error)) (bool, error) {
	q.Since = time.Time{}
	match := Matcher(q)
	es = slices.Clone(es)
	slices.SortStableFunc(es, Earlier)
	for _, e := range es {
		if e.ID == id {
			return true, nil
		}
		it, ok, err := read(e.ID)
		if err != nil {
			return false, err
		}
		if ok && match(&it) {
			return false, nil
		}
	}
	return false, nil // not in the cluster (any more): the story is shown as it is
}
