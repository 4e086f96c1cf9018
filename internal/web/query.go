package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
)

// Limits on ?limit=.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	maxText      = 200 // longest q= or category= in bytes
)

// filterKeys are the query parameters every feed and page accepts, in canonical order.
var filterKeys = []string{"member", "country", "region", "lang", "category", "q", "since", "before", "limit"}

// BadRequest is a filter problem, reported as 400 with its message.
type BadRequest struct{ Msg string }

func (e *BadRequest) Error() string { return e.Msg }

func bad(format string, a ...any) error { return &BadRequest{Msg: fmt.Sprintf(format, a...)} }

// parseQuery validates the filter parameters against the config and returns the store query.
// The languages members publish in are those worked out once per config (riverFilters):
// parsing each member's tags on every lang= request took 12 ms at 10,000 members.
func (s *Server) parseQuery(v url.Values, cfg *config.Config, defLimit int) (news.Query, error) {
	// Only the items of the members the config lists: those removed from it are gone
	// from every feed and page at once.
	q := news.Query{Limit: defLimit, Listed: s.riverFilters(cfg).listed}
	for k := range v {
		if !slices.Contains(filterKeys, k) && k != "hl" && k != "problems" && k != "sort" {
			return q, bad("unknown parameter %q (known: %s)", k, strings.Join(filterKeys, ", "))
		}
	}
	if m := param(v, "member"); m != "" {
		for _, id := range strings.Split(m, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			if _, ok := cfg.Member(id); !ok {
				return q, bad("unknown member %q", id)
			}
			if !slices.Contains(q.Members, id) {
				q.Members = append(q.Members, id)
			}
		}
	}
	if c := strings.ToUpper(strings.TrimSpace(v.Get("country"))); c != "" {
		if !slices.ContainsFunc(cfg.Members, func(m config.Member) bool { return m.Country == c }) {
			return q, bad("unknown country %q: no member is in it", c)
		}
		q.Country = c
	}
	if r := strings.TrimSpace(v.Get("region")); r != "" {
		i := slices.IndexFunc(cfg.Members, func(m config.Member) bool { return strings.EqualFold(m.Region, r) })
		if i < 0 {
			return q, bad("unknown region %q", r)
		}
		q.Region = cfg.Members[i].Region
	}
	if l := strings.TrimSpace(v.Get("lang")); l != "" {
		// Items are stored under their base language ("zh", "en"), whatever region or
		// script a member's languages name ("zh-Hant", "en-GB").
		b, rf := config.BaseLanguage(l), s.riverFilters(cfg)
		if b == "" || (!slices.Contains(rf.languages, b) && b != rf.networkLanguage) {
			return q, bad("unknown language %q: no member publishes in it", strings.ToLower(l))
		}
		q.Language = b
	}
	q.Category = strings.TrimSpace(v.Get("category"))
	if len(q.Category) > maxText {
		return q, bad("category is longer than %d characters", maxText)
	}
	q.Text = strings.TrimSpace(v.Get("q"))
	if len(q.Text) > maxText {
		return q, bad("q is longer than %d characters", maxText)
	}
	if s := strings.TrimSpace(v.Get("since")); s != "" {
		t, err := parseSince(s)
		if err != nil {
			return q, err
		}
		q.Since = t
	}
	if b := v.Get("before"); b != "" {
		c, err := parseCursor(b)
		if err != nil {
			return q, err
		}
		q.Before = c
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return q, bad("limit must be a whole number from 1 to %d", MaxLimit)
		}
		q.Limit = min(n, MaxLimit)
	}
	return q, nil
}

func parseSince(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := config.ParseDuration(s); err == nil {
		// Truncated to the minute: the render cache keys relative ages by minute.
		return time.Now().Add(-d).UTC().Truncate(time.Minute), nil
	}
	return time.Time{}, bad("since must be a date (2026-03-01), a time (RFC 3339) or an age (7d)")
}

// formatCursor writes a paging position as "<unix nanoseconds>_<item id>".
func formatCursor(c news.Cursor) string {
	return strconv.FormatInt(c.Time.UnixNano(), 10) + "_" + c.ID
}

func parseCursor(s string) (news.Cursor, error) {
	ns, id, ok := strings.Cut(s, "_")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return news.Cursor{}, bad("before must be a paging position taken from a next link")
	}
	return news.Cursor{Time: time.Unix(0, n).UTC(), ID: id}, nil
}

// canonicalQuery orders the known parameters so equal filters share one cache entry.
func canonicalQuery(v url.Values) string {
	out := url.Values{}
	for _, k := range filterKeys {
		if s := param(v, k); s != "" {
			out.Set(k, s)
		}
	}
	return out.Encode()
}

// clustered reports whether q shows each story once (from its earliest publisher): only
// when no filter could exclude that publisher, else a member's own copy would vanish from
// a selection that does not include the earliest publisher.
func clustered(q news.Query) bool {
	return len(q.Members) == 0 && q.Country == "" && q.Region == ""
}

// param is the value of query parameter k: member=a,b and member=a&member=b (what a form
// of checkboxes sends) alike give "a,b"; any other parameter's first value.
func param(v url.Values, k string) string {
	if k == "member" {
		return strings.Join(v[k], ",")
	}
	return v.Get(k)
}
