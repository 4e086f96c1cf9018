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
