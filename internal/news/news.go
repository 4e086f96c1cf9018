// Package news holds the neutral types that move through networkfeed's pipeline:
// an Item as a source yields it and as the store keeps it, the state of a source,
// and the query used to read items back. It has no dependencies on any stage.
package news

import (
	"time"
)

// Precision says how much of an item's Published time is real.
type Precision string

const (
	// PrecisionExact: the source gave a full timestamp (or at least a day).
	PrecisionExact Precision = ""
	// PrecisionDay: the source gave a calendar day with no time.
	PrecisionDay Precision = "day"
	// PrecisionMonth: the source gave only a month ("May 2017"); Published is the 1st of that month, 00:00 UTC.
	PrecisionMonth Precision = "month"
	// PrecisionNone: the source gave no date; Published is the time first seen.
	PrecisionNone Precision = "none"
)

// Item is one news item. Parsers fill what the source says (GUID, Title, Link, ...);
// the identity stage fills Key and ID; the store fills FirstSeen and keeps ID stable.
type Item struct {
	// ID is the public, permanent identifier used in every output feed. It never changes once given.
	ID string `json:"id"`
	// Key is the identity of the item within its member (see internal/identity).
	Key string `json:"key"`

	Member  string `json:"member"`
	Country string `json:"country,omitempty"`
	Region  string `json:"region,omitempty"`
	Source  string `json:"source"` // the source URL the item came from

	GUID  string `json:"guid,omitempty"` // as given by the source (RSS guid, Atom id, JSON id)
	Title string `json:"title"`          // plain text
	Link  string `json:"link,omitempty"` // absolute URL
	// Canonical is Link normalised by the identity stage (tracking parameters dropped, ...).
	Canonical  string    `json:"canonical,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	Content    string    `json:"content,omitempty"` // sanitised HTML
	Author     string    `json:"author,omitempty"`
	Image      string    `json:"image,omitempty"`
	Categories []string  `json:"categories,omitempty"`
	Language   string    `json:"lang,omitempty"` // BCP 47 tag, e.g. "en", "fr", "he"
	Published  time.Time `json:"published"`
	Precision  Precision `json:"precision,omitempty"`
	Updated    time.Time `json:"updated"`
	FirstSeen  time.Time `json:"first_seen"`

	// Enclosures are the files the item carries (RSS <enclosure>, Atom rel="enclosure"
	// links, JSON Feed attachments): a podcast's audio, a report's PDF; absolute URLs.
	Enclosures []Enclosure `json:"enclosures,omitempty"`

	// Cluster identity across members: the ID of the cluster's earliest item, and the members
	// that published the same story (set by the identity stage when clusters exist).
	ClusterID string   `json:"cluster,omitempty"`
	AlsoBy    []string `json:"also_by,omitempty"`
}

// Enclosure is a file attached to an item.
type Enclosure struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`   // media type, as the source gave it
	Length int64  `json:"length,omitempty"` // size in bytes, 0 when unknown
}

// Dated reports whether the source gave the item a date of its own.
func (it *Item) Dated() bool { return it.Precision != PrecisionNone }

// SortTime is the time an item is ordered by in timelines: its published time.
func (it *Item) SortTime() time.Time {
	if it.Published.IsZero() {
		return it.FirstSeen
	}
	return it.Published
}

// Health of a source, as shown on the dashboard.
type Health string

const (
	HealthUnknown  Health = "unknown" // never polled
	HealthOK       Health = "ok"
	HealthStale    Health = "stale"
	HealthFailing  Health = "failing"
	HealthDisabled Health = "disabled"
)

// SourceState is what the store remembers about one source between polls.
type SourceState struct {
	URL          string    `json:"url"`
	Member       string    `json:"member"`
	Kind         string    `json:"kind"` // feed, page, homepage
	LastPoll     time.Time `json:"last_poll"`
	LastSuccess  time.Time `json:"last_success"`
	LastNewItem  time.Time `json:"last_new_item"`
	NextPoll     time.Time `json:"next_poll"`
	Health       Health    `json:"health"`
	HTTPCode     int       `json:"http_code,omitempty"`
	Error        string    `json:"error,omitempty"` // last error in plain words; empty when the last poll succeeded
	ErrorKind    string    `json:"error_kind,omitempty"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Items        int       `json:"items"` // items stored from this source
	Failures     int       `json:"failures"`
	Polls        int       `json:"polls"`
	// FeedURL is the feed discovered for a homepage or page source, when one was found.
	FeedURL string `json:"feed_url,omitempty"`
	// Redirect is the permanent redirect target seen on the last poll ("update your feeds.yaml").
	Redirect string `json:"redirect,omitempty"`
	// Warning is what the last successful read of the source found amiss without failing
	// it, in plain words: a page's field selectors that no longer match any of its items
	// ("date selector `.date` matched none of 12 items"; see page.Miss). Its health stays
	// ok; a read without such a problem clears it (a 304 or a failure keeps it).
	Warning string `json:"warning,omitempty"`
	// RetryAfter is the time before which the source must not be polled again (429/503).
	RetryAfter time.Time `json:"retry_after,omitempty"`
	// NewestDated is the date of the newest dated item the source has listed (kept
	// across polls): an ok source whose newest item is recent is not stale, which
	// alerts can tell without reading its items.
	NewestDated time.Time `json:"newest_dated,omitzero"`
	// History is a bounded list of the most recent polls, newest first.
	History []PollRecord `json:"history,omitempty"`
}

// LeftBy reports whether the state was recorded for another member than member: states
// are kept by source URL, so a member whose id changed (one removed and one added) finds
// the old id's. Such a state is none of member's: its source counts as never polled.
func (s SourceState) LeftBy(member string) bool { return s.Member != "" && s.Member != member }

// PollRecord is one entry in a source's poll history.
type PollRecord struct {
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration"`
	HTTPCode int           `json:"http_code,omitempty"`
	New      int           `json:"new"`
	Updated  int           `json:"updated"`
	Error    string        `json:"error,omitempty"`
}

// MaxHistory is how many poll records a source keeps.
const MaxHistory = 50

// Query selects items from the store. Empty fields match everything.
type Query struct {
	Members   []string
	Country   string
	Region    string
	Language  string
	Category  string
	Text      string    // words in title or summary (accent- and case-folded)
	Since     time.Time // items published at or after
	Before    Cursor    // paging: items strictly older than this cursor
	Limit     int
	Clustered bool // show each cluster once (combined feeds)
	// Listed, when set, leaves out the items of the members it does not list: those of
	// members removed from the config, which stay stored. A story whose shown copy it
	// leaves out is shown from the next copy it keeps.
	Listed func(member string) bool
}

// Cursor is a position in a timeline: a sort time and an item ID to break ties.
type Cursor struct {
	Time time.Time
	ID   string
}

// IsZero reports whether the cursor is unset.
func (c Cursor) IsZero() bool { return c.Time.IsZero() && c.ID == "" }

// UpsertResult counts what a write did.
type UpsertResult struct {
	New       int
	Updated   int
	Unchanged int
	// NewIDs are the IDs of the items that were new.
	NewIDs []string
}
