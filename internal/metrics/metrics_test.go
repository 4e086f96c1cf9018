package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
)

type fakeSources []news.SourceState

func (f fakeSources) SourceStates(context.Context) ([]news.SourceState, error) { return f, nil }

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// TestScrape observes a few refreshes and checks every promised series in the text format.
func TestScrape(t *testing.T) {
	now := time.Now()
	m := New(fakeSources{
		{URL: "a", Health: news.HealthOK, NextPoll: now.Add(time.Hour)},
		{URL: "b", Health: news.HealthOK, NextPoll: now.Add(-90 * time.Second)},
		{URL: "c", Health: news.HealthFailing, NextPoll: now.Add(time.Hour)},
		{URL: "d", Health: news.HealthDisabled},
	}, nil)
	m.Observe(news.SourceState{}, news.SourceState{Health: news.HealthOK},
		poll.Result{New: 3, Updated: 1, Unchanged: 5, Duplicate: 2, Bytes: 1000, Duration: 200 * time.Millisecond})
	m.Observe(news.SourceState{}, news.SourceState{Health: news.HealthOK}, poll.Result{NotMod: true, Duration: 20 * time.Millisecond})
	m.Observe(news.SourceState{}, news.SourceState{Health: news.HealthFailing, ErrorKind: "http_429"},
		poll.Result{Err: errors.New("429"), Duration: 5 * time.Millisecond})
	text := scrape(t, m)
	for _, want := range []string{
		`networkfeed_polls_total{outcome="ok"} 1`,
		`networkfeed_polls_total{outcome="not_modified"} 1`,
		`networkfeed_polls_total{outcome="http_429"} 1`,
		`networkfeed_poll_duration_seconds_count 3`,
		`networkfeed_fetched_bytes_total 1000`,
		`networkfeed_items_total{result="new"} 3`,
		`networkfeed_items_total{result="updated"} 1`,
		`networkfeed_items_total{result="unchanged"} 5`,
		`networkfeed_items_total{result="duplicate"} 2`,
		`networkfeed_sources{health="ok"} 2`,
		`networkfeed_sources{health="failing"} 1`,
		`networkfeed_sources{health="disabled"} 1`,
		`networkfeed_sources{health="unknown"} 0`,
		`networkfeed_config_last_reload_successful 1`,
		`networkfeed_config_last_reload_success_timestamp_seconds`,
		`process_resident_memory_bytes`,
		`go_goroutines`,
	} {
		if strings.Contains(want, " ") && !strings.Contains("\n"+text, "\n"+want+"\n") || !strings.Contains(text, want) {
			t.Errorf("scrape lacks the line %s", want)
		}
	}
	if lag := queueLag(text); !strings.HasPrefix(lag, "90") {
		t.Errorf("queue lag %q, want about 90 seconds (the most overdue source)", lag)
	}
}

// TestScrapeCountsConfiguredSources: with a config, the health and lag gauges count the
// configured sources only, as the dashboard does. States the store keeps for a source
// removed from feeds.yaml (here long overdue) and for the alerts' record are left out;
// a source never polled is unknown; one disabled in the config is disabled and not
// overdue, whatever its stored state says.
func TestScrapeCountsConfiguredSources(t *testing.T) {
	now := time.Now()
	cfg, err := config.Parse("feeds.yaml", []byte(`members:
  - id: a
    name: A
    sources:
      - feed: https://a.example.org/ok.xml
      - feed: https://a.example.org/late.xml
      - feed: https://a.example.org/new.xml
      - feed: https://a.example.org/off.xml
        disabled: true
  - id: b
    name: B
    disabled: true
    sources: [{feed: "https://b.example.org/feed.xml"}]
`))
	if err != nil {
		t.Fatal(err)
	}
	m := New(fakeSources{
		{URL: "https://a.example.org/ok.xml", Health: news.HealthOK, NextPoll: now.Add(time.Hour)},
		{URL: "https://a.example.org/late.xml", Health: news.HealthFailing, NextPoll: now.Add(-30 * time.Second)},
		{URL: "https://a.example.org/off.xml", Health: news.HealthOK, NextPoll: now.Add(-time.Hour)},
		{URL: "https://b.example.org/feed.xml", Health: news.HealthFailing, NextPoll: now.Add(-time.Hour)},
		{URL: "https://gone.example.org/removed.xml", Health: news.HealthOK, NextPoll: now.Add(-48 * time.Hour)},
		{URL: "alerts:", Kind: "alerts", Health: news.HealthUnknown},
	}, func() *config.Config { return cfg })
	text := scrape(t, m)
	for _, want := range []string{
		`networkfeed_sources{health="ok"} 1`,
		`networkfeed_sources{health="failing"} 1`,
		`networkfeed_sources{health="unknown"} 1`,
		`networkfeed_sources{health="disabled"} 2`,
		`networkfeed_sources{health="stale"} 0`,
	} {
		if !strings.Contains("\n"+text, "\n"+want+"\n") {
			t.Errorf("scrape lacks the line %s", want)
		}
	}
	if lag := queueLag(text); !strings.HasPrefix(lag, "30") {
		t.Errorf("queue lag %s, want about 30 seconds (the most overdue configured source)", lag)
	}
}

// An ok source that this process assessed as stale at its last poll
// (alerts.Observer.Health) counts as stale; an assessment of an earlier poll (another
// process polled it since) does not, and the assessment changes nothing else.
func TestScrapeCountsAssessedStale(t *testing.T) {
	polled := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	m := New(fakeSources{
		{URL: "https://a.example.org/quiet.xml", Health: news.HealthOK, LastPoll: polled},
		{URL: "https://a.example.org/busy.xml", Health: news.HealthOK, LastPoll: polled},
		{URL: "https://a.example.org/polled-since.xml", Health: news.HealthOK, LastPoll: polled},
		{URL: "https://a.example.org/broken.xml", Health: news.HealthFailing, LastPoll: polled},
	}, nil)
	m.AssessWith(func(url string) (news.Health, time.Time, bool) {
		switch url {
		case "https://a.example.org/quiet.xml", "https://a.example.org/broken.xml":
			return news.HealthStale, polled, true
		case "https://a.example.org/polled-since.xml":
			return news.HealthStale, polled.Add(-time.Hour), true
		}
		return "", time.Time{}, false
	})
	text := scrape(t, m)
	for _, want := range []string{
		`networkfeed_sources{health="ok"} 2`,
		`networkfeed_sources{health="stale"} 1`,
		`networkfeed_sources{health="failing"} 1`,
	} {
		if !strings.Contains("\n"+text, "\n"+want+"\n") {
			t.Errorf("scrape lacks the line %s", want)
		}
	}
}

type downSources struct{}

func (downSources) SourceStates(context.Context) ([]news.SourceState, error) {
	return nil, errors.New("connection refused")
}

// Before any poll, the counters' usual labels are there at 0; the store's answer is a
// gauge of its own, so a scrape while it is down says so rather than leaving the source
// gauges out silently (found by a helper's audit).
func TestScrapeBeforeFirstPollAndStoreDown(t *testing.T) {
	text := scrape(t, New(fakeSources{}, nil))
	for _, want := range []string{
		`networkfeed_polls_total{outcome="ok"} 0`,
		`networkfeed_polls_total{outcome="not_modified"} 0`,
		`networkfeed_items_total{result="new"} 0`,
		`networkfeed_items_total{result="duplicate"} 0`,
		`networkfeed_store_up 1`,
	} {
		if !strings.Contains("\n"+text, "\n"+want+"\n") {
			t.Errorf("fresh scrape lacks the line %s", want)
		}
	}
	text = scrape(t, New(downSources{}, nil))
	if !strings.Contains(text, "\nnetworkfeed_store_up 0\n") || strings.Contains(text, "networkfeed_sources{") {
		t.Errorf("scrape with the store down: want networkfeed_store_up 0 and no source gauges:\n%s", text)
	}
}

// A configured source never polled has no next poll in the store: the queue lag takes
// it from the scheduler (DueWith), so sources waiting for their first poll behind slow
// ones count (they read 0, found by a helper's audit); one being polled does not.
func TestQueueLagCountsSourcesNeverPolled(t *testing.T) {
	now := time.Now()
	cfg, err := config.Parse("feeds.yaml", []byte("members:\n  - {id: a, name: A, sources: [{feed: \"https://a.example.org/ok.xml\"}, {feed: \"https://a.example.org/new.xml\"}, {feed: \"https://a.example.org/busy.xml\"}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := New(fakeSources{{URL: "https://a.example.org/ok.xml", Health: news.HealthOK, NextPoll: now.Add(-10 * time.Second)}},
		func() *config.Config { return cfg })
	m.DueWith(func(u string) (time.Time, bool) {
		switch u {
		case "https://a.example.org/new.xml":
			return now.Add(-90 * time.Second), true
		case "https://a.example.org/busy.xml":
			return now.Add(-time.Hour), false
		}
		return time.Time{}, false
	})
	if lag := queueLag(scrape(t, m)); !strings.HasPrefix(lag, "90") {
		t.Errorf("queue lag %s, want about 90 seconds (the source never polled, due 90 s ago)", lag)
	}
}

// TestScrapeRenamedMember: a source whose member's id changed (or that moved to another
// member) counts as the new member's never-polled source, as the dashboard shows it,
// due when the scheduler has it due: it counted as failing by the old member's state,
// and overdue by that state's next poll.
func TestScrapeRenamedMember(t *testing.T) {
	now := time.Now()
	cfg, err := config.Parse("feeds.yaml", []byte("members:\n  - {id: iss-belgium, name: B, sources: [{feed: \"https://be.example.org/feed.xml\"}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := New(fakeSources{{URL: "https://be.example.org/feed.xml", Member: "iss-be", Health: news.HealthFailing, NextPoll: now.Add(-time.Hour)}},
		func() *config.Config { return cfg })
	m.DueWith(func(u string) (time.Time, bool) {
		return now.Add(-20 * time.Second), u == "https://be.example.org/feed.xml"
	})
	text := scrape(t, m)
	for _, want := range []string{
		`networkfeed_sources{health="unknown"} 1`,
		`networkfeed_sources{health="failing"} 0`,
	} {
		if !strings.Contains("\n"+text, "\n"+want+"\n") {
			t.Errorf("scrape lacks the line %s", want)
		}
	}
	if lag := queueLag(text); !strings.HasPrefix(lag, "20") {
		t.Errorf("queue lag %s, want about 20 seconds (due as the scheduler has it, not at the old member's next poll)", lag)
	}
}

// TestQueueLagHoldsNextPollToTheConfig: a next poll recorded under an earlier config (a
// longer interval) is held to what the config in use allows, as the scheduler polls it
// and /sources shows it: a source whose interval was shortened to 1m, last polled 10
// minutes ago, is 9 minutes overdue (the gauge read its old next poll, hours ahead: 0).
func TestQueueLagHoldsNextPollToTheConfig(t *testing.T) {
	now := time.Now()
	cfg, err := config.Parse("feeds.yaml", []byte("fetch: {min_interval: 1m}\nmembers:\n  - {id: a, name: A, sources: [{feed: \"https://a.example.org/feed.xml\", interval: 1m}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := New(fakeSources{{URL: "https://a.example.org/feed.xml", Member: "a", Health: news.HealthOK, Polls: 3,
		LastPoll: now.Add(-10 * time.Minute), LastSuccess: now.Add(-10 * time.Minute), NextPoll: now.Add(5 * time.Hour)}},
		func() *config.Config { return cfg })
	if lag := queueLag(scrape(t, m)); !strings.HasPrefix(lag, "54") {
		t.Errorf("queue lag %s, want about 540 seconds (last poll 10 minutes ago, interval 1m)", lag)
	}
}

// queueLag is the value of networkfeed_queue_lag_seconds in a scrape ("none" without one).
func queueLag(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "networkfeed_queue_lag_seconds "); ok {
			return v
		}
	}
	return "none"
}
