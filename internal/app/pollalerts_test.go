package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/iss-network/networkfeed/internal/alerts"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
)

// TestPollCommandSendsAlerts: a `networkfeed poll` from cron may be the only poller (beside
// a `serve -poll=false` web front), so the health changes it sees are recorded for the
// alerts feed and posted to alerts.webhook_url, as serve does; the next run, seeing the
// same, posts nothing again. It also keeps each source's newest item date, which lets
// the staleness check skip reading an active source's items.
func TestPollCommandSendsAlerts(t *testing.T) {
	sites := memberSites(t)
	var (
		mu   sync.Mutex
		got  []alerts.Alert
		text []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a struct {
			Text string `json:"text"`
			alerts.Alert
		}
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		got, text = append(got, a.Alert), append(text, a.Text)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "feeds.yaml")
	yml := fmt.Sprintf(`network: {title: T, url: "https://news.example.org/"}
fetch: {interval: 30m, timeout: 5s, allow_private_addresses: true, robots: false}
alerts: {webhook_url: %q}
members:
  - {id: iss-usa, name: ISS USA, languages: [en], sources: [{feed: "%s/us/atom.xml"}]}
  - {id: iss-broken, name: ISS Broken, languages: [en], sources: [{feed: "%s/broken/feed.xml"}]}
`, hook.URL, sites.URL, sites.URL)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "nf.db")
	for run := 1; run <= 2; run++ {
		if out, code := runCmd(t, "poll", "-config", cfg, "-store", db); code != 0 {
			t.Fatalf("poll %d: exit %d: %s", run, code, out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// iss-usa's test feed is years old: stale from its first poll.
	byMember := map[string]alerts.Alert{}
	for _, a := range got {
		byMember[a.Member] = a
	}
	if b := byMember["iss-broken"]; len(got) != 2 || b.Kind != alerts.KindFailing || b.HTTPCode != 500 || b.From != "unknown" ||
		byMember["iss-usa"].Kind != alerts.KindStale {
		t.Fatalf("webhook got %+v, want one failing alert for iss-broken (HTTP 500, from unknown) and one stale for iss-usa", got)
	}
	st, err := boltstore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, err := alerts.Load(t.Context(), st)
	if err != nil || len(stored) != 2 || byMember[stored[0].Member].ID != stored[0].ID || byMember[stored[1].Member].ID != stored[1].ID {
		t.Errorf("stored alerts %+v, %v: want the ones posted", stored, err)
	}
	us, err := st.Source(t.Context(), sites.URL+"/us/atom.xml")
	if err != nil || us.NewestDated.IsZero() {
		t.Errorf("iss-usa's source state keeps no newest item date: %+v, %v", us.NewestDated, err)
	}
}
