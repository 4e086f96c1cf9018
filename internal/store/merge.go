package store

import (
	"slices"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
)

// Merge returns what must be stored when incoming is seen for an item already stored as old,
// and whether it must be written: anything a reader would notice changed, or only the item's
// canonical link or key (a link in an earlier version's form), when Updated stays. Every
// backend calls it, so that an item is updated the same way whatever it is stored in:
//   - ID, FirstSeen and ClusterID stay as first given, and Key too, unless incoming's is
//     this version's form of it (identity.CurrentKey: a Joomla article link an earlier
//     version keyed by its menu entry);
//   - Published stays unless the source now gives a real date no later than FirstSeen (an
//     undated item that gains a date moves to it; an edited post never jumps to the top);
//   - Title, Summary and Image stay when the source now gives none (an article page gave
//     them to an item its list left without);
//   - Updated moves only when the visible content changed: to incoming.Updated or, when
//     later, to incoming.FirstSeen (when the edit was seen).
func Merge(old, incoming news.Item) (news.Item, bool) {
	m := incoming
	m.ID = old.ID
	m.Key = old.Key
	if incoming.Key != old.Key && incoming.Key != "" && identity.CurrentKey(old.Key) == incoming.Key {
		m.Key = incoming.Key
	}
	m.FirstSeen = old.FirstSeen
	if m.ClusterID == "" {
		m.ClusterID = old.ClusterID
	}
	if len(m.AlsoBy) == 0 {
		m.AlsoBy = old.AlsoBy
	}
	if !incoming.Dated() || incoming.Published.IsZero() || incoming.Published.After(old.FirstSeen) {
		// No real date now, or one after we first saw the item (a future date that the
		// poller clamps to "now" on every poll): keep the time the item was ordered by.
		m.Published, m.Precision = old.Published, old.Precision
	}
	if m.Summary == "" {
		m.Summary = old.Summary
	}
	if m.Title == "" {
		m.Title = old.Title // one its article page gave (an item untitled on its list)
	}
	if m.Image == "" {
		m.Image = old.Image
	}
	changed := old.Title != m.Title || old.Summary != m.Summary || old.Content != m.Content ||
		old.Link != m.Link || old.Image != m.Image || old.Author != m.Author ||
		!slices.Equal(old.Enclosures, m.Enclosures) ||
		old.Language != m.Language || !slices.Equal(old.Categories, m.Categories) ||
		!old.Published.Equal(m.Published) || old.Precision != m.Precision
	if !changed {
		if m.Key == old.Key && (incoming.Canonical == "" || incoming.Canonical == old.Canonical) {
			return old, false
		}
		// Only how the item is known changed (a canonical link in an earlier version's
		// form): it is written again, to be found under its key and link as they are
		// now, but nothing a reader sees was updated.
		up := old
		up.Key = m.Key
		if incoming.Canonical != "" {
			up.Canonical = incoming.Canonical
		}
		return up, true
	}
	if !m.Updated.After(old.Updated) {
		m.Updated = old.Updated
	}
	if incoming.FirstSeen.After(m.Updated) {
		// The time we saw the edit: the source's own edit time is usually earlier than
		// items first seen since, and the feeds' Last-Modified (their newest Updated or
		// FirstSeen) must move, or a reader revalidating with If-Modified-Since alone
		// gets a 304 and never sees the edit.
		m.Updated = incoming.FirstSeen
	}
	return m, true
}
