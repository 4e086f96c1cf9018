package poll

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
)

// gsPage renders a Joomla-style news page like the General Secretariat's (see
// ../shared/seeds): a header that changes between snapshots, items without dates, the
// text Joomla puts in place of a cloaked e-mail address.
func gsPage(header string, items ...[2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html lang="en"><head><title>Secrétariat Général</title></head><body>
<header><h1>Secrétariat Général</h1><p>%s</p></header><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div class="blog">`, header)
	for _, it := range items {
		slug := strings.ToLower(strings.Join(strings.Fields(it[0])[:2], "-"))
		fmt.Fprintf(&b, `<div class="item"><h2 itemprop="name"><a href="/news/%s.html">%s</a></h2><p>%s</p></div>`, slug, it[0], it[1])
	}
	b.WriteString(`</div><footer>© ISS</footer></body></html>`)
	return b.String()
}

var gsSelect = &config.Selectors{Item: "div.blog div.item", Title: "h2", Link: "h2 a", Summary: "p"}

func TestPageSnapshotsHeaderChangeAndEdits(t *testing.T) {
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body.Load().(string))
	}))
	defer srv.Close()
	mooc := [2]string{"MOOC: Getting Care Right for All Children", "Join thousands of colleagues. Contact: This email address is being protected from spambots. You need JavaScript enabled to view it."}
	guide := [2]string{"Intercountry adoption and search for origins – A guide for adoptees", "May 2017: the ISS/IRC is pleased to share its new publication."}
	cbfm := [2]string{"Cross-Border Family Mediation", "Join a day-long conference on June 5, 2018 in Washington, D.C."}

	st := openBolt(t)
	// The seeds' stories are from 2017-2018: keep them (retention would drop them).
	cfg, err := config.Parse("test.yml", []byte("retention: {max_age: 36500d}\nmembers: [{id: iss-gs, name: GS, homepage: \"https://gs.example.org/\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	ref := newTestRefresher(t, st, cfg, nil)
	job := pageJob("iss-gs", srv.URL+"/news", gsSelect)

	// 2018 snapshot.
	body.Store(gsPage("Protéger les enfants et réunir les familles au-delà des frontières depuis 94 ans", cbfm, mooc, guide))
	r := ref.Refresh(t.Context(), job)
	if r.Err != nil || r.New != 3 {
		t.Fatalf("first poll: %+v", r)
	}
	first := storedItems(t, st, "iss-gs")
	for _, it := range first {
		if strings.Contains(it.Summary, "spambots") {
			t.Errorf("cloaking text kept in %q", it.Summary)
		}
	}
	// 2019 snapshot: the header says 95 years, the same stories are there (one edited, one new on top).
	edited := [2]string{cbfm[0], cbfm[1] + " A full programme is online."}
	news2019 := [2]string{"ISS PAC meets in Athens", "The ISS Professional Advisory Committee annual meeting was hosted in Athens."}
	body.Store(gsPage("Protéger les enfants et réunir les familles au-delà des frontières depuis 95 ans", news2019, edited, mooc, guide))
	r = ref.Refresh(t.Context(), job)
	if r.Err != nil || r.New != 1 || r.Updated != 1 {
		t.Fatalf("second poll: new %d updated %d err %v; want 1 new (the new story), 1 updated (the edited one), no item for the header change", r.New, r.Updated, r.Err)
	}
	after := storedItems(t, st, "iss-gs")
	if len(after) != 4 {
		t.Fatalf("stored %d items, want 4", len(after))
	}
	ids := map[string]string{}
	for _, it := range first {
		ids[it.Title] = it.ID
	}
	for _, it := range after {
		if id, ok := ids[it.Title]; ok && id != it.ID {
			t.Errorf("%q changed id %s -> %s", it.Title, id, it.ID)
		}
		if it.Title == cbfm[0] && !strings.Contains(it.Summary, "full programme") {
			t.Errorf("edit not applied in place: %q", it.Summary)
		}
	}

	// A redesign: the list container is gone. The source fails with that reason and keeps its items.
	body.Store(`<!doctype html><html><body><main><section class="news-grid"><article><h3><a href="/n/1">Something</a></h3></article></section></main></body></html>`)
	r = ref.Refresh(t.Context(), job)
	state, _ := sourceState(t, st, job.URL())
	if r.Err == nil || state.Health != news.HealthFailing || !strings.Contains(state.Error, "selectors no longer match") {
		t.Errorf("after redesign: err %v, health %s, error %q", r.Err, state.Health, state.Error)
	}
	if got := storedItems(t, st, "iss-gs"); len(got) != 4 {
		t.Errorf("redesign lost items: %d stored", len(got))
	}
}

// TestDiscoveryAndEnrichment: a page without selectors and without <link rel="alternate">
// on a WordPress site is read through its /feed/; a page with no feed at all is detected,
// and its new undated items are completed from their article pages (date, summary, image),
// each article fetched once.
func TestDiscoveryAndEnrichment(t *testing.T) {
	var articleHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/wp/news/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><body><h1>News</h1><p>No feed link here.</p></body></html>`)
	})
	mux.HandleFunc("/feed/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, goodFeed("wp"))
	})
	mux.HandleFunc("/list/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, gsPage("Header",
			[2]string{"Kafalah evaluation mission in Morocco", ""},
			[2]string{"Training of judges in Cape Verde", ""},
			[2]string{"Search for origins conference in Biel", ""}))
	})
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		articleHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head>
<meta property="article:published_time" content="2026-03-04T09:00:00Z">
<meta property="og:description" content="The full story of %s, told by the General Secretariat.">
<meta property="og:image" content="/img/%s.jpg"></head><body><article><h1>Story</h1></article></body></html>`, r.URL.Path, strings.Trim(r.URL.Path, "/"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	st := openBolt(t)
	ref := newTestRefresher(t, st, testConfig(t, ""), nil)

	wp := Job{Member: &config.Member{ID: "wp", Name: "WP", Languages: []string{"en"}}, Source: config.Source{Page: srv.URL + "/wp/news/"}}
	r := ref.Refresh(t.Context(), wp)
	state, _ := sourceState(t, st, wp.URL())
	if r.Err != nil || r.New != 3 || !strings.HasSuffix(state.FeedURL, "/feed/") || !strings.HasPrefix(r.Via, "discovered feed") {
		t.Fatalf("WordPress page: %+v, feed url %q", r, state.FeedURL)
	}

	list := Job{Member: &config.Member{ID: "gs", Name: "GS", Languages: []string{"en"}}, Source: config.Source{Page: srv.URL + "/list/"}}
	list.Source.Select = gsSelect
	r = ref.Refresh(t.Context(), list)
	if r.Err != nil || r.New != 3 {
		t.Fatalf("list page: %+v", r)
	}
	if n := articleHits.Load(); n != 3 {
		t.Errorf("fetched %d article pages, want 3 (one per new item)", n)
	}
	for _, it := range storedItems(t, st, "gs") {
		if it.Precision == news.PrecisionNone || it.Published.Format("2006-01-02") != "2026-03-04" || !strings.Contains(it.Summary, "full story") || !strings.HasPrefix(it.Image, srv.URL+"/img/") {
			t.Errorf("item not enriched: %q %v %s %q %q", it.Title, it.Published, it.Precision, it.Summary, it.Image)
		}
	}
	// Seen again: nothing new, no article fetched again.
	r = ref.Refresh(t.Context(), list)
	if r.Err != nil || r.New != 0 || articleHits.Load() != 3 {
		t.Errorf("second poll: %+v, %d article fetches", r, articleHits.Load())
	}
}

// TestWordPressRESTAPI: a WordPress page with no feed but an advertised REST API yields
// the posts from /wp-json/wp/v2/posts, dated.
func TestWordPressRESTAPI(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/actualites/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="fr"><head><link rel="https://api.w.org/" href="/wp-json/"></head><body><h1>Actualités</h1></body></html>`)
	})
	mux.HandleFunc("/wp-json/wp/v2/posts", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":12,"guid":{"rendered":"https://ssi.example.org/?p=12"},"date_gmt":"2026-06-05T08:00:00","modified_gmt":"2026-06-06T08:00:00","link":"https://ssi.example.org/2026/06/mediation/","title":{"rendered":"M&eacute;diation familiale internationale"},"excerpt":{"rendered":"<p>Une permanence bilingue.</p>"},"content":{"rendered":"<p>Texte <script>alert(1)</script></p>"}},
{"id":11,"guid":{"rendered":"https://ssi.example.org/?p=11"},"date_gmt":"2026-05-01T08:00:00","modified_gmt":"2026-05-01T08:00:00","link":"https://ssi.example.org/2026/05/kafala/","title":{"rendered":"Kafala : un guide"},"excerpt":{"rendered":"<p>Guide.</p>"},"content":{"rendered":"<p>Guide complet.</p>"}}]`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	st := openBolt(t)
	ref := newTestRefresher(t, st, testConfig(t, ""), nil)
	job := Job{Member: &config.Member{ID: "ch", Name: "CH", Languages: []string{"fr"}}, Source: config.Source{Page: srv.URL + "/actualites/"}}
	r := ref.Refresh(t.Context(), job)
	if r.Err != nil || r.New != 2 || !strings.HasPrefix(r.Via, "wordpress api") {
		t.Fatalf("refresh: %+v", r)
	}
	items := storedItems(t, st, "ch")
	if items[0].Title != "Médiation familiale internationale" || items[0].Published.Format("2006-01-02") != "2026-06-05" || strings.Contains(items[0].Content, "script") {
		t.Errorf("first item = %q %v %q", items[0].Title, items[0].Published, items[0].Content)
	}
}

// A redesign that renames the date's class while the item selector still matches: the
// items keep coming, undated, so the source is not failing, but its state carries a
// warning naming the selector, kept while the page is unchanged (304) and cleared once
// the selector matches again.
func TestPageSelectorWarning(t *testing.T) {
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := body.Load().(string)
		etag := fmt.Sprintf(`"%x"`, len(b))
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, b)
	}))
	defer srv.Close()
	page := func(dateClass string, n int) string {
		var b strings.Builder
		b.WriteString(`<html lang="en"><body><div class="news">`)
		for i := range n {
			fmt.Fprintf(&b, `<div class="item"><h2><a href="/a/%d">Story number %d</a></h2><span class="%s">%d March 2026</span><p>Some words about story %d.</p></div>`, i, i, dateClass, 20-i, i)
		}
		b.WriteString(`</div></body></html>`)
		return b.String()
	}
	cfg, err := config.Parse("test.yml", []byte("retention: {max_age: 36500d}\nmembers: [{id: m, name: M, homepage: \"https://m.example.org/\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := openBolt(t)
	ref := newTestRefresher(t, st, cfg, nil)
	job := pageJob("m", srv.URL+"/news", &config.Selectors{Item: "div.item", Title: "h2", Link: "h2 a", Date: ".date"})
	check := func(step string, wantNew int, wantWarning string) Result {
		t.Helper()
		r := ref.Refresh(t.Context(), job)
		s, _ := sourceState(t, st, job.URL())
		if r.Err != nil || r.New != wantNew || s.Health != news.HealthOK || s.Warning != wantWarning || r.Health != news.HealthOK {
			t.Errorf("%s: new %d, err %v, health %s, warning %q; want %d new, ok, warning %q", step, r.New, r.Err, s.Health, s.Warning, wantNew, wantWarning)
		}
		return r
	}
	body.Store(page("date", 3))
	check("dates match", 3, "")
	body.Store(page("published-on", 4))
	const warning = "date selector `.date` matched none of 4 items"
	check("date class renamed", 1, warning)
	if r := check("unchanged page (304)", 0, warning); !r.NotMod {
		t.Errorf("unchanged page: not a 304: %+v", r)
	}
	body.Store(page("date", 5))
	check("dates match again", 1, "")
}

// A list whose item is nothing but a read-more link ("Click here for more") and a date:
// the item takes its article page's title, and the next poll of the list, which still
// gives none, leaves it (no update, no empty title).
func TestPageReadMoreOnlyItemTitle(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><body><div class="blog">
<div class="item"><h2><a href="/a/dialogue.html">Click here for more</a></h2><span class="date">12 March 2026</span></div>
<div class="item"><h2><a href="/a/pac.html">ISS PAC meets in Athens</a></h2><span class="date">10 March 2026</span></div></div></body></html>`)
	})
	mux.HandleFunc("/a/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>News – ISS</title></head><body><h1>High Commissioner’s Dialogue on Protection Challenges</h1></body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg, err := config.Parse("test.yml", []byte("retention: {max_age: 36500d}\nmembers: [{id: gs, name: GS, homepage: \"https://gs.example.org/\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := openBolt(t)
	ref := newTestRefresher(t, st, cfg, nil)
	job := pageJob("gs", srv.URL+"/news/", &config.Selectors{Item: "div.item", Date: ".date"})
	if r := ref.Refresh(t.Context(), job); r.Err != nil || r.New != 2 {
		t.Fatalf("first poll: %+v", r)
	}
	title := func() string {
		for _, it := range storedItems(t, st, "gs") {
			if strings.HasSuffix(it.Link, "/a/dialogue.html") {
				return it.Title
			}
		}
		t.Fatal("item not stored")
		return ""
	}
	const want = "High Commissioner’s Dialogue on Protection Challenges"
	if got := title(); got != want {
		t.Errorf("title %q, want %q (the article's)", got, want)
	}
	if r := ref.Refresh(t.Context(), job); r.Err != nil || r.New != 0 || r.Updated != 0 {
		t.Errorf("second poll: %+v; want nothing new or updated", r)
	}
	if got := title(); got != want {
		t.Errorf("after the second poll: title %q, want %q", got, want)
	}
}
