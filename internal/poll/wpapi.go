package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
)

// viaWPAPI marks items read from the WordPress REST API.
const viaWPAPI = "wordpress api"

// wpAPIRoot returns the WordPress REST API root a page advertises
// (<link rel="https://api.w.org/" href="…/wp-json/">), or "".
func wpAPIRoot(doc []byte, pageURL string) string {
	d, err := goquery.NewDocumentFromReader(bytes.NewReader(doc))
	if err != nil {
		return ""
	}
	href, ok := d.Find(`link[rel="https://api.w.org/"]`).First().Attr("href")
	if !ok || href == "" {
		return ""
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return ""
	}
	u, err := base.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.String()
}

// wpPost is the part of a WordPress REST API post that becomes an item.
type wpPost struct {
	ID       int                       `json:"id"`
	GUID     struct{ Rendered string } `json:"guid"`
	DateGMT  string                    `json:"date_gmt"`
	Modified string                    `json:"modified_gmt"`
	Link     string                    `json:"link"`
	Title    struct{ Rendered string } `json:"title"`
	Excerpt  struct{ Rendered string } `json:"excerpt"`
	Content  struct{ Rendered string } `json:"content"`
}

// wpPosts reads the newest posts from a WordPress REST API root.
func (r *Refresher) wpPosts(ctx context.Context, res *Result, root string) ([]news.Item, string, error) {
	u := strings.TrimSuffix(root, "/") + "/wp/v2/posts?per_page=20&_fields=id,guid,date_gmt,modified_gmt,link,title,excerpt,content"
	if strings.Contains(root, "?rest_route=") {
		u = root + "/wp/v2/posts&per_page=20"
	}
	var posts []wpPost
	var perr error
	if err := r.linkedGet(ctx, res, fetch.Request{URL: u, Accept: "application/json"}, func(resp *fetch.Response) {
		perr = json.Unmarshal(resp.Body, &posts)
	}); err != nil {
		return nil, u, err
	}
	if perr != nil {
		return nil, u, fmt.Errorf("read WordPress posts from %s: %w", u, perr)
	}
	items := make([]news.Item, 0, len(posts))
	for _, p := range posts {
		it := news.Item{GUID: p.GUID.Rendered, Title: p.Title.Rendered, Link: p.Link, Summary: p.Excerpt.Rendered, Content: p.Content.Rendered}
		if it.GUID == "" {
			it.GUID = fmt.Sprintf("wp-post-%d", p.ID)
		}
		if t, err := time.Parse("2006-01-02T15:04:05", p.DateGMT); err == nil {
			it.Published = t.UTC()
			it.Updated = it.Published
			if m, err := time.Parse("2006-01-02T15:04:05", p.Modified); err == nil {
				it.Updated = m.UTC()
			}
		} else {
			it.Precision = news.PrecisionNone
		}
		items = append(items, it)
	}
	return items, u, nil
}
