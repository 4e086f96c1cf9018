package poll

import (
	"context"

	"github.com/iss-network/networkfeed/internal/clean"
	"github.com/iss-network/networkfeed/internal/feed"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/page"
)

// How a refresh found its items (Result.Via), for those that come from pages.
const (
	viaSelectors = "selectors"
	viaDetected  = "detected"
)

// MaxEnrich is how many article pages one refresh may fetch to complete new items.
const MaxEnrich = 10

// maxFeedProbes bounds the candidate feed URLs one discovery tries.
const maxFeedProbes = 6

// feedCandidates lists the URLs findFeed tries for a page: the feeds it advertises with
// <link rel="alternate"> first, then (when probeCMS) the usual CMS feed locations
// (WordPress /feed/, Joomla ?format=feed&type=rss, Drupal /rss.xml), at most
// maxFeedProbes.
func feedCandidates(body []byte, pageURL string, probeCMS bool) []string {
	var candidates []string
	seen := map[string]bool{pageURL: true}
	for _, fl := range page.DiscoverFeeds(body, pageURL) {
		if !seen[fl.URL] {
			seen[fl.URL] = true
			candidates = append(candidates, fl.URL)
		}
	}
	if probeCMS {
		for _, u := range page.CMSFeedCandidates(pageURL) {
			if !seen[u] {
				seen[u] = true
				candidates = append(candidates, u)
			}
		}
	}
	return candidates[:min(len(candidates), maxFeedProbes)]
}

// findFeed looks for a real feed behind a page: it returns the first of candidates
// (see feedCandidates) that answers with a parseable feed.
func (r *Refresher) findFeed(ctx context.Context, res *Result, candidates []string) (*feed.Feed, *fetch.Response, bool) {
	for _, u := range candidates {
		if ctx.Err() != nil {
			break
		}
		var (
			f    *feed.Feed
			resp *fetch.Response
		)
		if err := r.linkedGet(ctx, res, fetch.Request{URL: u, Accept: fetch.AcceptFeeds}, func(got *fetch.Response) {
			if parsed, err := feed.Parse(got.Body); err == nil && len(parsed.Items) > 0 {
				f, resp = parsed, got
			}
		}); err != nil || f == nil {
			continue
		}
		return f, resp, true
	}
	return nil, nil, false
}

// enrich completes new items that came from a page without a title, date, summary or
// image by fetching each one's article page once (at most MaxEnrich per refresh, through
// the same polite client) and taking og:title (or the page's heading or title),
// article:published_time / JSON-LD datePublished, og:description and og:image. known holds the IDs already stored: those are not fetched.
func (r *Refresher) enrich(ctx context.Context, res *Result, j Job, items []news.Item, known map[string]news.Item) {
	fetched := 0
	opts := r.pageOptions(j)
	for i := range items {
		it := &items[i]
		if fetched >= MaxEnrich || ctx.Err() != nil {
			break
		}
		if !needsEnrich(it, known) {
			continue
		}
		fetched++
		var e page.Enrichment
		if err := r.linkedGet(ctx, res, fetch.Request{URL: it.Link}, func(resp *fetch.Response) {
			e = page.Enrich(resp.Body, resp.URL, opts)
		}); err != nil {
			r.Log.Debug("enrich: article page", "member", j.Member.ID, "source", j.URL(), "link", it.Link, "err", err)
			continue
		}
		if it.Precision == news.PrecisionNone && e.Precision != news.PrecisionNone && !e.Published.IsZero() {
			it.Published, it.Precision = e.Published.UTC(), e.Precision
			if it.Published.After(it.FirstSeen) {
				it.Published = it.FirstSeen
			}
			it.Updated = it.Published
		}
		if it.Summary == "" && e.Summary != "" {
			it.Summary = clean.Summary(e.Summary, clean.SummaryLength)
		}
		if it.Title == "" && e.Title != "" {
			// A list item with nothing but a read-more link and no text of its own:
			// the article's title is its title.
			it.Title = clean.Title(e.Title)
		}
		if it.Image == "" && e.Image != "" {
			it.Image = e.Image
		}
	}
}

// needsEnrich reports whether enrich would fetch its article page: a new item with a
// link that lacks a title, a date, a summary or an image.
func needsEnrich(it *news.Item, known map[string]news.Item) bool {
	if _, ok := known[it.ID]; ok || it.Link == "" {
		return false
	}
	return it.Title == "" || it.Precision == news.PrecisionNone || it.Summary == "" || it.Image == ""
}
