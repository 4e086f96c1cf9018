package poll

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	redisstore "github.com/iss-network/networkfeed/internal/store/redis"
	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// joomlaStore is what these tests need of a store: the poller's and a reader's.
type joomlaStore interface {
	Store
	Items(ctx context.Context, q news.Query) ([]news.Item, error)
	ItemsByKey(ctx context.Context, member string, keys []string) ([]news.Item, error)
}

// joomlaStores runs f on the embedded store and on a private Redis (each subtest its
// own network).
func joomlaStores(t *testing.T, f func(t *testing.T, open func(t *testing.T) joomlaStore)) {
	t.Run("bolt", func(t *testing.T) {
		f(t, func(t *testing.T) joomlaStore {
			st, err := boltstore.Open(filepath.Join(t.TempDir(), "nf.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("redis", func(t *testing.T) {
		url := redistest.Server(t)
		n := 0
		f(t, func(t *testing.T) joomlaStore {
			n++
			st, err := redisstore.Open(context.Background(), fmt.Sprintf("%s?network=joomla%d", url, n))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

// joomlaArticle is one article of a Joomla site without SEF URLs.
type joomlaArticle struct {
	id            int
	alias, title  string
	catid, itemid int
	date          string // "" for an undated item
}

// joomlaComponent is the Joomla component a site's articles are linked through:
// com_content's articles, or K2's items.
type joomlaComponent struct{ name, option, view, list string }

var joomlaComponents = []joomlaComponent{
	{"article", "com_content", "article", "/index.php?option=com_content&view=category&id=12&Itemid=101"},
	{"K2 item", "com_k2", "item", "/index.php?option=com_k2&view=itemlist&layout=category&task=category&id=12&Itemid=101"},
}

// link is the article's link as the site writes it, relative to the site. K2 writes
// the category in some links only (here: once an item moved out of category 12).
func (a joomlaArticle) link(c joomlaComponent) string {
	if c.option == "com_k2" {
		l := fmt.Sprintf("/index.php?option=com_k2&view=item&id=%d:%s&Itemid=%d", a.id, a.alias, a.itemid)
		if a.catid != 12 {
			l += fmt.Sprintf("&catid=%d", a.catid)
		}
		return l
	}
	return fmt.Sprintf("/index.php?option=com_content&view=article&id=%d:%s&catid=%d&Itemid=%d", a.id, a.alias, a.catid, a.itemid)
}

// joomlaSite serves a Joomla-like category blog page at c.list (any address but
// /feed.xml) and an RSS feed of the same articles without GUIDs at /feed.xml, listing
// what set was last given, linked through c.
func joomlaSite(t *testing.T, c joomlaComponent, first []joomlaArticle) (base string, set func([]joomlaArticle)) {
	var mu sync.Mutex
	arts := first
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		list := slices.Clone(arts)
		mu.Unlock()
		var b strings.Builder
		if r.URL.Path == "/feed.xml" {
			b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>ISS Switzerland</title><link>http://` + r.Host + `/</link>`)
			for _, a := range list {
				fmt.Fprintf(&b, "<item><title>%s</title><link>http://%s%s</link>", a.title, r.Host, strings.ReplaceAll(a.link(c), "&", "&amp;"))
				if a.date != "" {
					d, _ := time.Parse("2006-01-02", a.date)
					fmt.Fprintf(&b, "<pubDate>%s</pubDate>", d.Add(9*time.Hour).Format(time.RFC1123Z))
				}
				b.WriteString("<description>Some words about the article.</description></item>")
			}
			b.WriteString("</channel></rss>")
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write([]byte(b.String()))
			return
		}
		b.WriteString(`<!doctype html><html lang="en"><body><div class="blog">`)
		for _, a := range list {
			fmt.Fprintf(&b, `<div class="item"><h2 class="item-title"><a href="%s">%s</a></h2>`, strings.ReplaceAll(a.link(c), "&", "&amp;"), a.title)
			if a.date != "" {
				fmt.Fprintf(&b, `<time datetime="%sT09:00:00Z">%s</time>`, a.date, a.date)
			}
			b.WriteString(`<p>Some words about the article.</p></div>`)
		}
		b.WriteString(`</div></body></html>`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(a []joomlaArticle) {
		mu.Lock()
		arts = a
		mu.Unlock()
	}
}

var joomlaArticles = []joomlaArticle{
	{245, "kafala-mission", "Kafala evaluation mission in Morocco", 12, 101, "2026-03-04"},
	{244, "pac-athens", "ISS PAC meets in Athens", 12, 101, "2026-03-02"},
	{240, "annual-report", "Our annual report is out", 12, 101, ""},
}

// reorganised is the site after its menus were reorganised (every Itemid), an article
// moved category and another's alias was edited.
func reorganised(arts []joomlaArticle) []joomlaArticle {
	out := slices.Clone(arts)
	for i := range out {
		out[i].itemid = 235
	}
	out[0].catid, out[1].alias = 31, "pac-meets-in-athens"
	return out
}

func joomlaJobs(base string, c joomlaComponent) map[string]Job {
	return map[string]Job{
		"page": pageJob("m", base+c.list,
			&config.Selectors{Item: "div.item", Title: "h2", Link: "h2 a", Date: "time", Summary: "p"}),
		"feed without guids": feedJob("m", base+"/feed.xml"),
	}
}

func memberItems(t *testing.T, st joomlaStore, member string) []news.Item {
	t.Helper()
	items, err := st.Items(context.Background(), news.Query{Members: []string{member}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func idsOf(items []news.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	slices.Sort(out)
	return out
}

// A member's Joomla site without SEF URLs links each article with the menu entry the
// link was made under (Itemid), its category and its alias: when the site's menus are
// reorganised, an article moves or is renamed, the article is still the same number,
// and its item the same item (before, every item of the page came again as new, the
// undated ones at the top of the network's feed).
func TestJoomlaMenuReorganisationKeepsItems(t *testing.T) {
	joomlaStores(t, func(t *testing.T, open func(t *testing.T) joomlaStore) {
		for _, c := range joomlaComponents {
			for name := range joomlaJobs("", c) {
				t.Run(c.name+"/"+name, func(t *testing.T) {
					base, set := joomlaSite(t, c, joomlaArticles)
					j := joomlaJobs(base, c)[name]
					st := open(t)
					r := newTestRefresher(t, st, testConfig(t, ""), nil)
					if res := r.Refresh(context.Background(), j); res.Err != nil || res.New != len(joomlaArticles) {
						t.Fatalf("first poll: %d new, err %v; want %d new", res.New, res.Err, len(joomlaArticles))
					}
					before := idsOf(memberItems(t, st, "m"))
					set(reorganised(joomlaArticles))
					res := r.Refresh(context.Background(), j)
					if res.Err != nil || res.New != 0 {
						t.Errorf("poll after the menus were reorganised: %d new items, want 0 (err %v)", res.New, res.Err)
					}
					after := memberItems(t, st, "m")
					if got := idsOf(after); !slices.Equal(got, before) {
						t.Errorf("items after the reorganisation %v, want the same %v", got, before)
					}
					for _, it := range after {
						if !strings.Contains(it.Link, "Itemid=235") {
							t.Errorf("item %q keeps its old link %s, want the site's new one", it.Title, it.Link)
						}
					}
				})
			}
		}
	})
}

// earlierCanonical is the canonical link the versions before this one gave each
// article's link through c, as they gave it (their Canonical kept every parameter):
// what items they stored are keyed and indexed by.
func earlierCanonical(host string, c joomlaComponent, a joomlaArticle) string {
	if c.option == "com_k2" && a.catid == 12 {
		return fmt.Sprintf("https://%s/index.php?Itemid=%d&id=%d%%3A%s&option=com_k2&view=item", host, a.itemid, a.id, a.alias)
	}
	return fmt.Sprintf("https://%s/index.php?Itemid=%d&catid=%d&id=%d%%3A%s&option=%s&view=%s", host, a.itemid, a.catid, a.id, a.alias, c.option, c.view)
}

// Items the version before this one stored for a Joomla site are keyed by their links
// with the menu entry ("url:https://host/index.php?Itemid=101&catid=12&id=245%3A…"),
// and their IDs derive from those keys. The first poll after the upgrade finds them:
// no new item, the same IDs, and the items rewritten under this version's key and
// link, so that a later reorganisation of the menus still finds them; an item
// retention removed stays removed while the page lists it. Two members linking to the
// same article under different menu entries then tell one story.
func TestJoomlaUpgradeFindsStoredItems(t *testing.T) {
	joomlaStores(t, func(t *testing.T, open func(t *testing.T) joomlaStore) {
		for _, c := range joomlaComponents {
			for name := range joomlaJobs("", c) {
				t.Run(c.name+"/"+name, func(t *testing.T) {
					base, set := joomlaSite(t, c, joomlaArticles)
					host := strings.TrimPrefix(base, "http://")
					j := joomlaJobs(base, c)[name]

					// What the earlier version stored: a poll's items (a scratch store's),
					// keyed as it keyed them.
					scratch := open(t)
					if res := newTestRefresher(t, scratch, testConfig(t, ""), nil).Refresh(context.Background(), j); res.Err != nil {
						t.Fatal(res.Err)
					}
					polled := memberItems(t, scratch, "m")
					state, _ := sourceState(t, scratch, j.URL())
					var old []news.Item
					byTitle := map[string]string{} // title -> ID the earlier version gave
					for _, it := range polled {
						i := slices.IndexFunc(joomlaArticles, func(a joomlaArticle) bool { return a.title == it.Title })
						if i < 0 {
							t.Fatalf("unexpected item %q", it.Title)
						}
						it.Canonical = earlierCanonical(host, c, joomlaArticles[i])
						it.Key = "url:" + it.Canonical
						it.ID = identity.ID("m", it.Key)
						it.ClusterID, it.AlsoBy = "", nil
						byTitle[it.Title] = it.ID
						old = append(old, it)
					}
					st := open(t)
					if _, err := st.Upsert(context.Background(), old); err != nil {
						t.Fatal(err)
					}
					state.Polls = 1
					if err := st.PutSource(context.Background(), state); err != nil {
						t.Fatal(err)
					}
					// Retention removed the oldest (by its place in the timeline) while the
					// page still lists it.
					if n, err := st.Trim(context.Background(), j.URL(), len(old)-1, 0, time.Now()); err != nil || n != 1 {
						t.Fatalf("trim: %d removed, err %v; want 1", n, err)
					}
					kept := idsOf(memberItems(t, st, "m"))

					r := newTestRefresher(t, st, testConfig(t, ""), nil)
					res := r.Refresh(context.Background(), j)
					if res.Err != nil || res.New != 0 {
						t.Errorf("first poll after the upgrade: %d new items, want 0 (err %v)", res.New, res.Err)
					}
					got := memberItems(t, st, "m")
					if ids := idsOf(got); !slices.Equal(ids, kept) {
						t.Errorf("items after the upgrade %v, want the stored %v", ids, kept)
					}
					for _, it := range got {
						want := identity.Canonical(it.Link)
						if it.Canonical != want || it.Key != "url:"+want {
							t.Errorf("item %q stored with key %q, canonical %q; want this version's url:%s", it.Title, it.Key, it.Canonical, want)
						}
						if it.ID != byTitle[it.Title] {
							t.Errorf("item %q has ID %s, want %s", it.Title, it.ID, byTitle[it.Title])
						}
					}

					set(reorganised(joomlaArticles))
					res = r.Refresh(context.Background(), j)
					if res.Err != nil || res.New != 0 {
						t.Errorf("poll after the menus were reorganised: %d new items, want 0 (err %v)", res.New, res.Err)
					}
					if ids := idsOf(memberItems(t, st, "m")); !slices.Equal(ids, kept) {
						t.Errorf("items after the reorganisation %v, want the stored %v", ids, kept)
					}

					// Another member links to the article under another menu entry.
					feed, _ := changingFeed(t, rss(
						fmt.Sprintf("|Partner news: a kafala evaluation in Morocco|%s/index.php?option=%s&amp;view=%s&amp;id=245:kafala&amp;Itemid=7|Wed, 04 Mar 2026 12:00:00 GMT", base, c.option, c.view)))
					if res := r.Refresh(context.Background(), feedJob("b", feed+"/feed.xml")); res.Err != nil || res.New != 1 {
						t.Fatalf("other member's poll: %+v", res)
					}
					b := memberItems(t, st, "b")
					var a news.Item
					for _, it := range memberItems(t, st, "m") {
						if it.Title == joomlaArticles[0].title {
							a = it
						}
					}
					if len(b) != 1 || a.ID == "" || b[0].ClusterID == "" || b[0].ClusterID != a.ClusterID {
						t.Errorf("member b's copy of article 245 is in cluster %q, m's in %q: want one story", b[0].ClusterID, a.ClusterID)
					}
				})
			}
		}
	})
}
