package alerts

import (
	"slices"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// Staleness rule: a source that polls fine is stale when its newest item is older than
// StaleFactor times its typical gap between items (the median gap between its stored
// items' dates), never less than MinStale and never more than MaxStale. With fewer than
// MinItemsForGap dated items the typical gap is taken as DefaultGap.
const (
	StaleFactor    = 3
	MinStale       = 7 * 24 * time.Hour
	MaxStale       = 180 * 24 * time.Hour
	DefaultGap     = 30 * 24 * time.Hour
	MinItemsForGap = 4
	// Weeks is the span of the activity sparkline.
	Weeks = 26
	week  = 7 * 24 * time.Hour
)

// Assessment is a source's health as shown to people: the poller's verdict (ok,
// failing, disabled, unknown) refined with staleness, and the figures behind it.
type Assessment struct {
	Health news.Health
	// LastItem is the date of the source's newest stored item (or the last time a new
	// item was seen, when no item is stored).
	LastItem time.Time
	// TypicalGap is the median time between the source's items (0 when there are too few).
	TypicalGap time.Duration
	// StaleAfter is how long the source may go quiet before it counts as stale.
	StaleAfter time.Duration
	// Weekly counts the source's items per week, oldest week first, the last entry
	// being the week that ends now.
	Weekly [Weeks]int
}

// ItemDate is a stored item's date (its SortTime) and whether the source gave one: an
// undated item's date is the time it was first seen.
type ItemDate struct {
	Time  time.Time
	Dated bool
}

// Assess judges a source from its stored state and the dates of its stored items, in
// any order. Failing, disabled and never-polled sources keep the poller's verdict; an
// ok source is stale when quiet for longer than it usually goes. Every item counts in
// the weekly activity and for the newest item; only dated ones for the typical gap: a
// page's undated items are all first seen in its first poll, a minute or so apart,
// which is not how often the source publishes.
func Assess(st news.SourceState, dates []ItemDate, now time.Time) Assessment {
	a := Assessment{Health: st.Health, LastItem: st.LastNewItem}
	if a.Health == "" {
		a.Health = news.HealthUnknown
	}
	var ds []time.Time // the dated items', sorted
	for _, d := range dates {
		if age := now.Sub(d.Time); age >= 0 && age < Weeks*week {
			a.Weekly[Weeks-1-int(age/week)]++
		}
		if d.Dated {
			ds = append(ds, d.Time)
		}
	}
	if len(dates) > 0 {
		a.LastItem = slices.MaxFunc(dates, func(x, y ItemDate) int { return x.Time.Compare(y.Time) }).Time
	}
	slices.SortFunc(ds, func(x, y time.Time) int { return x.Compare(y) })
	if len(ds) >= MinItemsForGap {
		gaps := make([]time.Duration, 0, len(ds)-1)
		for i := 1; i < len(ds); i++ {
			gaps = append(gaps, ds[i].Sub(ds[i-1]))
		}
		slices.Sort(gaps)
		a.TypicalGap = gaps[len(gaps)/2]
	}
	gap := a.TypicalGap
	if gap == 0 {
		gap = DefaultGap
	}
	a.StaleAfter = min(max(StaleFactor*gap, MinStale), MaxStale)
	if a.Health == news.HealthOK && !a.LastItem.IsZero() && now.Sub(a.LastItem) > a.StaleAfter {
		a.Health = news.HealthStale
	}
	return a
}

// DatesOf returns the dates of the items that came from source.
func DatesOf(items []news.Item, source string) []ItemDate {
	var out []ItemDate
	for i := range items {
		if items[i].Source == source {
			out = append(out, ItemDate{Time: items[i].SortTime(), Dated: items[i].Dated()})
		}
	}
	return out
}

// ItemsQuery is the store query that reads enough of a member's items to assess its
// sources: a year back, at most 1000 items.
func ItemsQuery(member string, now time.Time) news.Query {
	return news.Query{Members: []string{member}, Since: now.Add(-365 * 24 * time.Hour), Limit: 1000}
}
