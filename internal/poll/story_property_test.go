package poll

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/iss-network/networkfeed/internal/clean"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	redisstore "github.com/iss-network/networkfeed/internal/store/redis"
	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// One story, once: random sequences of member feeds (stories added, removed, edited,
// re-ordered, GUIDs changed, links re-written, syndicated by another member, the
// process restarted) are polled in order through a real Refresher, and after every
// round the combined feed shows every stored story exactly once, from its earliest
// publisher, also by the others; no member stores a story twice; and every item keeps
// its ID.

var propMembers = []string{"gs", "au", "fr"}

// propEntry is one item of a member's feed.
type propEntry struct {
	story   int
	guid    string
	path    string // link path on the member's own site
	orig    string // when set, the item links to the original's page on this member's site
	variant int    // how the link is written: 0 https, 1 http + trailing slash, 2 www + tracking
	title   string
	pub     time.Time
}

type propState struct {
	mu    sync.Mutex
	feeds map[string][]propEntry
	ever  map[string]map[int]bool // stories a member has ever carried
	first map[int]propEntry       // stories' original entries
	owner map[int]string          // stories' original members
	next  int
}

func (s *propState) link(m string, e propEntry) string {
	host, path := m+".example.org", "/news/"+e.path
	if e.orig != "" {
		host = e.orig + ".example.org"
	}
	switch e.variant {
	case 1:
		return "http://" + host + path + "/"
	case 2:
		return "https://www." + host + path + "?utm_source=rss&utm_medium=feed"
	}
	return "https://" + host + path
}

func (s *propState) render(m string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>` + m + `</title><link>https://` + m + `.example.org/</link><language>en</language>`)
	for _, e := range s.feeds[m] {
		b.WriteString("<item><guid isPermaLink=\"false\">" + e.guid + "</guid><title>")
		xml.EscapeText(&b, []byte(e.title))
		b.WriteString("</title><link>")
		xml.EscapeText(&b, []byte(s.link(m, e)))
		b.WriteString("</link><pubDate>" + e.pub.Format(time.RFC1123Z) + "</pubDate><description>")
		xml.EscapeText(&b, []byte(storetest.StoryText(e.story)))
		b.WriteString("</description></item>")
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// step changes one member's feed, or reports a restart.
func (s *propState) step(t *rapid.T, base time.Time) (restart bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := rapid.SampledFrom(propMembers).Draw(t, "member")
	feed := s.feeds[m]
	pick := func() int { return rapid.IntRange(0, len(feed)-1).Draw(t, "entry") }
	switch op := rapid.SampledFrom([]string{"add", "add", "syndicate", "syndicate", "remove", "edit", "reorder", "guid", "link", "restart"}).Draw(t, "op"); {
	case op == "add":
		n := s.next
		s.next++
		e := propEntry{story: n, guid: fmt.Sprintf("%s-%d", m, n), path: fmt.Sprintf("story-%d", n),
			title: fmt.Sprintf("Story %d announced", n), pub: base.Add(time.Duration(rapid.IntRange(0, 480).Draw(t, "hour")) * time.Hour)}
		s.first[n], s.owner[n] = e, m
		s.ever[m][n] = true
		s.feeds[m] = append(feed, e)
	case op == "syndicate":
		var stories []int
		for n := range s.first {
			if !s.ever[m][n] {
				stories = append(stories, n)
			}
		}
		if len(stories) == 0 {
			return false
		}
		slices.Sort(stories)
		n := rapid.SampledFrom(stories).Draw(t, "story")
		o := s.first[n]
		e := propEntry{story: n, guid: fmt.Sprintf("%s-syn-%d", m, n), path: fmt.Sprintf("repost-%d", n),
			title: o.title, pub: o.pub.Add(time.Duration(rapid.IntRange(-48, 48).Draw(t, "shift")) * time.Hour)}
		if rapid.Bool().Draw(t, "retitle") {
			e.title = "From the network: " + e.title
		}
		if rapid.Bool().Draw(t, "link original") {
			e.orig, e.path = s.owner[n], o.path
		}
		s.ever[m][n] = true
		s.feeds[m] = append(feed, e)
	case len(feed) == 0:
	case op == "remove":
		i := pick()
		s.feeds[m] = slices.Delete(slices.Clone(feed), i, i+1)
	case op == "edit":
		feed[pick()].title += " (updated)"
	case op == "reorder":
		s.feeds[m] = rapid.Permutation(feed).Draw(t, "order")
	case op == "guid":
		feed[pick()].guid += "-v2"
	case op == "link":
		i := pick()
		feed[i].variant = (feed[i].variant + 1) % 3
	case op == "restart":
		return true
	}
	return false
}

// propStore is what the test needs of a store.
type propStore interface {
	Store
	Items(ctx context.Context, q news.Query) ([]news.Item, error)
	Close() error
}

var storyTitle = regexp.MustCompile(`Story (\d+) announced`)

func storyOf(t *rapid.T, it news.Item) int {
	m := storyTitle.FindStringSubmatch(it.Title)
	if m == nil {
		t.Fatalf("item %s has an unexpected title %q", it.ID, it.Title)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// checkStories runs the property with stores from open; restarts call open again.
func checkStories(t *testing.T, open func(t *rapid.T, dir string) propStore) {
	cfg, err := config.Parse("feeds.yaml", []byte("members:\n"+
		"  - {id: gs, name: ISS General Secretariat, homepage: \"https://gs.example.org/\"}\n"+
		"  - {id: au, name: ISS Australia, homepage: \"https://au.example.org/\"}\n"+
		"  - {id: fr, name: SSI France, homepage: \"https://fr.example.org/\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	client := fetch.New(fetch.Options{Timeout: 5 * time.Second, AllowPrivate: true, PerHost: -1})
	root := t.TempDir()
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		dir := filepath.Join(root, strconv.Itoa(run))
		ps := &propState{feeds: map[string][]propEntry{}, ever: map[string]map[int]bool{}, first: map[int]propEntry{}, owner: map[int]string{}}
		for _, m := range propMembers {
			ps.ever[m] = map[int]bool{}
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, ps.render(strings.Trim(r.URL.Path, "/")))
		}))
		defer srv.Close()
		st := open(rt, dir)
		defer func() { st.Close() }()
		ref := &Refresher{Fetch: client, Store: st, Clean: clean.New(), Log: slog.New(slog.DiscardHandler),
			Now: time.Now, Config: func() *config.Config { return cfg }}
		base := time.Now().UTC().Truncate(time.Hour).Add(-30 * 24 * time.Hour)
		ids := map[string]string{} // member/story -> item ID
		steps := rapid.IntRange(1, 14).Draw(rt, "steps")
		for range steps {
			if ps.step(rt, base) {
				st.Close()
				st = open(rt, dir)
				ref.Store = st
			}
			for _, m := range propMembers {
				j := Job{Member: &config.Member{ID: m, Name: m, Languages: []string{"en"}}, Source: config.Source{Feed: srv.URL + "/" + m}}
				if r := ref.Refresh(context.Background(), j); r.Err != nil && len(ps.feeds[m]) > 0 {
					rt.Fatalf("refresh %s: %v", m, r.Err)
				}
			}
			checkCombined(rt, st, ids)
		}
	})
}

func checkCombined(t *rapid.T, st propStore, ids map[string]string) {
	ctx := context.Background()
	all, err := st.Items(ctx, news.Query{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	combined, err := st.Items(ctx, news.Query{Limit: 100000, Clustered: true})
	if err != nil {
		t.Fatal(err)
	}
	copies := map[int][]news.Item{}
	for _, it := range all {
		n := storyOf(t, it)
		k := it.Member + "/" + strconv.Itoa(n)
		if prev, ok := ids[k]; ok && prev != it.ID {
			t.Fatalf("%s's copy of story %d changed ID from %s to %s", it.Member, n, prev, it.ID)
		}
		ids[k] = it.ID
		for _, c := range copies[n] {
			if c.Member == it.Member {
				t.Fatalf("%s stores story %d twice: %s and %s", it.Member, n, c.ID, it.ID)
			}
		}
		copies[n] = append(copies[n], it)
	}
	shown := map[int]news.Item{}
	for _, it := range combined {
		n := storyOf(t, it)
		if prev, ok := shown[n]; ok {
			t.Fatalf("combined feed shows story %d twice: %s (%s) and %s (%s)", n, prev.ID, prev.Member, it.ID, it.Member)
		}
		shown[n] = it
	}
	for n, cs := range copies {
		got, ok := shown[n]
		if !ok {
			t.Fatalf("combined feed lost story %d (stored as %v)", n, itemIDs(cs))
		}
		es := make([]store.ClusterEntry, len(cs))
		var members []string
		for i := range cs {
			es[i] = store.EntryOf(&cs[i])
			members = append(members, cs[i].Member)
		}
		want := cs[store.Shown(es)]
		if got.ID != want.ID {
			t.Fatalf("story %d shown from %s (%s), want the earliest copy %s (%s)", n, got.ID, got.Member, want.ID, want.Member)
		}
		members = slices.DeleteFunc(members, func(m string) bool { return m == got.Member })
		slices.Sort(members)
		if !slices.Equal(got.AlsoBy, members) {
			t.Fatalf("story %d shown from %s also by %v, want %v", n, got.Member, got.AlsoBy, members)
		}
	}
}

func itemIDs(items []news.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func TestStoriesOnceBolt(t *testing.T) {
	checkStories(t, func(t *rapid.T, dir string) propStore {
		st, err := boltstore.Open(filepath.Join(dir, "nf.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// The same property on Redis, with fewer runs (restarts reconnect).
func TestStoriesOnceRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("Redis property run skipped in -short mode")
	}
	url := redistest.Server(t)
	t.Run("redis", func(t *testing.T) {
		nets := map[string]string{}
		checkStories(t, func(rt *rapid.T, dir string) propStore {
			if nets[dir] == "" {
				nets[dir] = fmt.Sprintf("prop%d", len(nets))
			}
			st, err := redisstore.Open(context.Background(), url+"?network="+nets[dir])
			if err != nil {
				rt.Fatal(err)
			}
			return st
		})
	})
}
