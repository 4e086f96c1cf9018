package web

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/publish"
	"github.com/iss-network/networkfeed/internal/websub"
)

// feedFormats are the formats every feed is served in (publish.Render writes them).
var feedFormats = []string{publish.FormatRSS, publish.FormatAtom, publish.FormatJSON}

// feedRoutes registers the syndication endpoints.
func (s *Server) feedRoutes(mux *http.ServeMux) {
	// Public: readable from members' own pages' scripts (see handlePublic).
	for _, f := range feedFormats {
		handlePublic(mux, "/feed."+f, func(w http.ResponseWriter, r *http.Request) { s.feed(w, r, f, "") })
		handlePublic(mux, "/members/{id}/feed."+f, func(w http.ResponseWriter, r *http.Request) { s.memberFeed(w, r, f) })
	}
	handlePublic(mux, "/opml", s.opml)   // opml.go: the network's sources by region
	handlePublic(mux, "/embed", s.embed) // embed.go: a self-contained list for iframes
	handlePublic(mux, "/embed.js", s.embedScript)
	mux.HandleFunc("GET /share", s.share) // share.go: feed addresses and embedding snippets
}

func (s *Server) memberFeed(w http.ResponseWriter, r *http.Request, format string) {
	id := r.PathValue("id")
	if _, ok := s.config().Member(id); !ok {
		s.fail(w, r, fmt.Errorf("member %q: %w", id, errNotFound))
		return
	}
	s.feed(w, r, format, id)
}

// feed serves one feed in one format, from the render cache when the store has not changed.
func (s *Server) feed(w http.ResponseWriter, r *http.Request, format, member string) {
	if publish.ContentType(format) == "" {
		s.fail(w, r, fmt.Errorf("feed format %q (use rss, atom or json): %w", format, errNotFound))
		return
	}
	cfg := s.config()
	vals := r.URL.Query()
	q, err := s.parseQuery(vals, cfg, DefaultLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if member != "" {
		q.Members = []string{member}
	}
	q.Clustered = clustered(q)
	canon := canonicalQuery(vals)
	key := cacheKey{cfg: cfg, addr: withQuery(r.URL.Path, canon), since: q.Since.Unix()}
	version, ok := s.version(r.Context())
	err = s.cache.serve(w, r, key, version, ok, func() ([]byte, string, time.Time, error) {
		dir := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "feed."+format)
		f, err := s.buildFeed(r.Context(), cfg, q, format, member, dir, canon, vals)
		if err != nil {
			return nil, "", time.Time{}, err
		}
		var buf bytes.Buffer
		if err := publish.Render(&buf, format, f); err != nil {
			return nil, "", time.Time{}, fmt.Errorf("write %s feed: %w", format, err)
		}
		return buf.Bytes(), publish.ContentType(format), f.Updated, nil
	})
	if err != nil {
		s.fail(w, r, err)
	}
}

// buildFeed reads the items and describes the feed around them. dir is the feed's
// directory under the network URL ("", "members/x/"), query its canonical filter query;
// paging, when not nil, are the request's parameters, from which the next link is made.
func (s *Server) buildFeed(ctx context.Context, cfg *config.Config, q news.Query, format, member, dir, query string, paging url.Values) (publish.Feed, error) {
	var (
		items []news.Item
		more  bool
		err   error
	)
	if paging != nil {
		items, more, err = s.pageOf(ctx, q)
	} else {
		items, err = s.items(ctx, q)
	}
	if err != nil {
		return publish.Feed{}, fmt.Errorf("read items: %w", err)
	}
	s.riverFilters(cfg).withoutUnlisted(items)
	base := cfg.Network.URL
	f := publish.Feed{
		Title:       cfg.Network.Title,
		Description: cfg.Network.Description,
		HTMLURL:     base,
		SelfURL:     withQuery(base+dir+"feed."+format, query),
		Language:    cfg.Network.Language,
		Items:       items,
		Members:     publishMembers(cfg),
		FeedURLs:    map[string]string{},
	}
	if cfg.Network.WebSubHub != "" && slices.Contains(websub.Topics(base, []string{member}), f.SelfURL) {
		// Only the feeds the hub is pinged for advertise it: a subscriber to a filtered
		// or paged feed through the hub would never hear of its new items.
		f.Hub = cfg.Network.WebSubHub
	}
	if f.Description == "" {
		f.Description = "News from the members of " + cfg.Network.Title
	}
	for _, name := range feedFormats {
		f.FeedURLs[name] = withQuery(base+dir+"feed."+name, query)
	}
	if member != "" {
		m, _ := cfg.Member(member)
		f.Title = m.Name + " – " + cfg.Network.Title
		f.Description = "News from " + m.Name
		f.HTMLURL = base + "members/" + member
		if len(m.Languages) > 0 {
			f.Language = m.Languages[0]
		}
	}
	if q.Language != "" {
		// A feed selected by language holds only that language: readers take the feed's
		// language for its items' direction and fonts (a Hebrew feed labelled "en" is
		// shown left to right).
		f.Language = q.Language
	}
	if len(items) > 0 {
		f.Updated = newest(items)
	} else {
		f.Updated = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if paging != nil {
		pageLinks(&f, base+dir+"feed."+format, paging, q, items, more)
	}
	return f, nil
}

// pageOf reads one page of q's items and whether older ones exist: one item more than
// the page holds is read to know (a selection that filled its last page exactly linked
// an empty next page, in the river and in the feeds).
func (s *Server) pageOf(ctx context.Context, q news.Query) ([]news.Item, bool, error) {
	read := q
	if q.Limit > 0 {
		read.Limit++
	}
	items, err := s.items(ctx, read)
	if err != nil || q.Limit <= 0 || len(items) <= q.Limit {
		return items, false, err
	}
	return items[:q.Limit], true, nil
}

// pageLinks sets the RFC 5005 links of a live feed at addr with request parameters
// paging. Pages are keyset pages: "before" a cursor holds the items older than it, which
// newer items never shift, so the next page (older items) is also the previous archive
// (prev-archive). The first page (the feed without a cursor) is the subscription
// document: "first" on every paged feed, "current" on the pages behind it. A page of
// newer items (previous, next-archive) would need the store to read forwards from a
// cursor, so it is not linked.
// more says whether older items than these exist.
func pageLinks(f *publish.Feed, addr string, paging url.Values, q news.Query, items []news.Item, more bool) {
	if !more && q.Before.IsZero() {
		return // one page holds everything: not paged
	}
	first := paging
	if paging.Has("before") {
		first = maps.Clone(paging)
		first.Del("before")
		f.CurrentURL = withQuery(addr, canonicalQuery(first))
	}
	f.FirstURL = withQuery(addr, canonicalQuery(first))
	if more {
		last := items[len(items)-1]
		v := maps.Clone(paging)
		v.Set("before", formatCursor(news.Cursor{Time: last.SortTime(), ID: last.ID}))
		f.NextURL = withQuery(addr, canonicalQuery(v))
		f.PrevArchiveURL = f.NextURL
	}
}

// StaticFeed renders a feed for a static build: the items that filters select, with
// self and alternate links at dir ("countries/ch/") under the network URL, and no
// paging. A single member filter names the feed after the member.
func (s *Server) StaticFeed(ctx context.Context, format string, filters url.Values, dir string) ([]byte, error) {
	if publish.ContentType(format) == "" {
		return nil, fmt.Errorf("static feed: unknown format %q", format)
	}
	cfg := s.config()
	q, err := s.parseQuery(filters, cfg, DefaultLimit)
	if err != nil {
		return nil, fmt.Errorf("static feed %s: %w", dir, err)
	}
	member := ""
	if len(q.Members) == 1 && len(filters) == 1 {
		member = q.Members[0]
	}
	q.Clustered = clustered(q)
	f, err := s.buildFeed(ctx, cfg, q, format, member, dir, "", nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := publish.Render(&buf, format, f); err != nil {
		return nil, fmt.Errorf("write %s feed: %w", format, err)
	}
	return buf.Bytes(), nil
}

func withQuery(u, q string) string {
	if q == "" {
		return u
	}
	return u + "?" + q
}

func publishMembers(cfg *config.Config) map[string]publish.Member {
	out := make(map[string]publish.Member, len(cfg.Members))
	for _, m := range cfg.Members {
		home := m.Homepage
		if home == "" {
			home = cfg.Network.URL + "members/" + url.PathEscape(m.ID)
		}
		out[m.ID] = publish.Member{ID: m.ID, Name: m.Name, Homepage: home, Country: m.Country}
	}
	return out
}
