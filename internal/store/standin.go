package store

import (
	"slices"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// FiltersContent reports whether q filters on what each copy of a story says for itself
// (its language, categories, words). Clustered reads show a story once, from its shown
// copy; such a filter can leave that copy out and keep a hidden one, which then stands
// in for the story (StandsIn): a French member's copy of a story the GS published in
// English is the story in a French selection. (Listed can too, a member's copy being
// the story once the GS is removed from the config; the cluster's entries say that
// alone: ListedStandsIn.)
func FiltersContent(q news.Query) bool {
	return q.Language != "" || q.Category != "" || q.Text != ""
}

// ListedStandsIn reports, for a hidden copy id of the story of the cluster with entries
// es, in a clustered read whose only filter of copies is listed (q.Listed, not
// FiltersContent), whether it stands in for its story: whether every copy before it, in
// the cluster's order, is of a member listed leaves out. The entries name each copy's
// member, so no copy is read: in a read of the whole network (Listed is always set, and
// most stories' shown copies are listed) a hidden copy costs its cluster's record.
func ListedStandsIn(listed func(member string) bool, id string, es []ClusterEntry) bool {
	es = slices.Clone(es)
	slices.SortStableFunc(es, Earlier)
	for _, e := range es {
		if e.ID == id {
			return true
		}
		if listed(e.Member) {
			return false
		}
	}
	return false // not in the cluster (any more): the story is shown as it is
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
