package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
)

var now = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// weekly returns n dates a week apart, the newest `ago` before now.
func weekly(n int, ago time.Duration) []time.Time {
	var out []time.Time
	for i := range n {
		out = append(out, now.Add(-ago-time.Duration(i)*days(7)))
	}
	return out
}

func TestAssess(t *testing.T) {
	tests := []struct {
		name      string
		health    news.Health
		dates     []time.Time
		want      news.Health
		wantGap   time.Duration
		wantWeeks int // items counted in the 26 weeks
	}{
		{"weekly and recent", news.HealthOK, weekly(10, days(3)), news.HealthOK, days(7), 10},
		{"weekly, quiet for 22 days", news.HealthOK, weekly(10, days(22)), news.HealthStale, days(7), 10},
		{"weekly, quiet for 20 days", news.HealthOK, weekly(10, days(20)), news.HealthOK, days(7), 10},
		{"daily, quiet for 8 days: a week at least", news.HealthOK, []time.Time{now.Add(-days(8)), now.Add(-days(9)), now.Add(-days(10)), now.Add(-days(11))}, news.HealthStale, days(1), 4},
		{"daily, quiet for 6 days", news.HealthOK, []time.Time{now.Add(-days(6)), now.Add(-days(7)), now.Add(-days(8)), now.Add(-days(9))}, news.HealthOK, days(1), 4},
		{"too few items: 90 days allowed", news.HealthOK, []time.Time{now.Add(-days(80)), now.Add(-days(300))}, news.HealthOK, 0, 1},
		{"too few items, older than 90 days", news.HealthOK, []time.Time{now.Add(-days(100))}, news.HealthStale, 0, 1},
		{"failing stays failing", news.HealthFailing, weekly(10, days(100)), news.HealthFailing, days(7), 10},
		{"disabled stays disabled", news.HealthDisabled, nil, news.HealthDisabled, 0, 0},
		{"no items, never stale", news.HealthOK, nil, news.HealthOK, 0, 0},
		{"empty health is unknown", "", nil, news.HealthUnknown, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Assess(news.SourceState{Health: tc.health}, dated(tc.dates...), now)
			if a.Health != tc.want || a.TypicalGap != tc.wantGap {
				t.Errorf("got %s gap %v, want %s gap %v", a.Health, a.TypicalGap, tc.want, tc.wantGap)
			}
			n := 0
			for _, c := range a.Weekly {
				n += c
			}
			if n != tc.wantWeeks {
				t.Errorf("weekly total %d, want %d (%v)", n, tc.wantWeeks, a.Weekly)
			}
		})
	}
	t.Run("this week is the last bar", func(t *testing.T) {
		a := Assess(news.SourceState{Health: news.HealthOK}, dated(now.Add(-time.Hour), now.Add(-days(8))), now)
		if a.Weekly[Weeks-1] != 1 || a.Weekly[Weeks-2] != 1 {
			t.Errorf("weekly %v", a.Weekly)
		}
	})
	// A page's undated items, first seen a minute apart in its first poll, beside four
	// weekly dated ones: they count as activity and as the newest item, not for the gap.
	t.Run("undated items do not make the gap", func(t *testing.T) {
		ds := dated(weekly(4, days(10))...)
		for i := range 10 {
			ds = append(ds, ItemDate{Time: now.Add(-days(2) - time.Duration(i)*time.Minute)})
		}
		a := Assess(news.SourceState{Health: news.HealthOK}, ds, now)
		if a.TypicalGap != days(7) {
			t.Errorf("typical gap %v, want 7 days (the dated items')", a.TypicalGap)
		}
		if !a.LastItem.Equal(now.Add(-days(2))) || a.Weekly[Weeks-1] != 10 {
			t.Errorf("newest item %v, this week %d: want 2 days ago and 10", now.Sub(a.LastItem), a.Weekly[Weeks-1])
		}
	})
}

// dated gives dates of dated items.
func dated(ts ...time.Time) []ItemDate {
	out := make([]ItemDate, len(ts))
	for i, t := range ts {
		out[i] = ItemDate{Time: t, Dated: true}
	}
	return out
}

// memStore is an in-memory Store.
type memStore struct {
	mu      sync.Mutex
	items   []news.Item
	sources map[string]news.SourceState
}

func (m *memStore) Items(ctx context.Context, q news.Query) ([]news.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []news.Item
	for _, it := range m.items {
		if len(q.Members) == 0 || it.Member == q.Members[0] {
			out = append(out, it)
		}
	}
	return out, nil
}

func (m *memStore) Source(ctx context.Context, url string) (news.SourceState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.sources[url]
	if !ok {
		return st, fmt.Errorf("source %s: %w", url, store.ErrNotFound)
	}
	return st, nil
}

func (m *memStore) PutSource(ctx context.Context, st news.SourceState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sources == nil {
		m.sources = map[string]news.SourceState{}
	}
	m.sources[st.URL] = st
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

const src = "https://be.example/feed"

func state(h news.Health, kind string) news.SourceState {
	st := news.SourceState{URL: src, Member: "iss-be", Health: h, ErrorKind: kind}
	if h == news.HealthFailing {
		st.Error, st.HTTPCode = "the server had an internal error (HTTP 500)", 500
	}
	return st
}

func TestObserverDetectsChanges(t *testing.T) {
	ms := &memStore{}
	clock := now
	ob := New(Options{Store: ms, Log: quiet(), Now: func() time.Time { return clock }})
	// Weekly items, the newest 2 days old: ok, not stale.
	for i, d := range weekly(8, days(2)) {
		ms.items = append(ms.items, news.Item{ID: fmt.Sprint(i), Member: "iss-be", Source: src, Published: d})
	}
	steps := []struct {
		name          string
		before, after news.SourceState
		advance       time.Duration
		want          string // kind, or "" for no alert
	}{
		{"first poll ok", state(news.HealthUnknown, ""), state(news.HealthOK, ""), 0, ""},
		{"starts failing", state(news.HealthOK, ""), state(news.HealthFailing, "http_5xx"), time.Hour, KindFailing},
		{"still failing", state(news.HealthFailing, "http_5xx"), state(news.HealthFailing, "http_5xx"), time.Hour, ""},
		{"recovers", state(news.HealthFailing, "http_5xx"), state(news.HealthOK, ""), time.Hour, KindRecovered},
		{"selectors stop matching", state(news.HealthOK, ""), state(news.HealthFailing, "selectors"), time.Hour, KindSelectors},
		{"failing for another reason", state(news.HealthFailing, "selectors"), state(news.HealthFailing, "timeout"), time.Hour, ""},
		{"recovers again", state(news.HealthFailing, "timeout"), state(news.HealthOK, ""), time.Hour, KindRecovered},
		{"goes stale three weeks later", state(news.HealthOK, ""), state(news.HealthOK, ""), days(21), KindStale},
		{"is disabled", state(news.HealthOK, ""), state(news.HealthDisabled, ""), time.Hour, KindDisabled},
	}
	var want []string
	if _, _, ok := ob.Health(src); ok {
		t.Fatal("Health before any refresh was observed")
	}
	for _, s := range steps {
		clock = clock.Add(s.advance)
		ob.Observe(s.before, s.after, poll.Result{URL: src})
		if h, at, ok := ob.Health(src); !ok || (s.want == KindStale) != (h == news.HealthStale) || (h != news.HealthStale && h != s.after.Health) || !at.Equal(s.after.LastPoll) {
			t.Errorf("after %q: Health = %q at %s, %v", s.name, h, at, ok)
		}
		if s.want != "" {
			want = append([]string{s.want}, want...)
		}
		got := ob.Recent(t.Context())
		if len(got) != len(want) {
			t.Fatalf("after %q: %d alerts, want %d (%v)", s.name, len(got), len(want), got)
		}
		for i := range want {
			if got[i].Kind != want[i] {
				t.Fatalf("after %q: alert %d is %s, want %s", s.name, i, got[i].Kind, want[i])
			}
		}
	}
	// Persisted for another process: Load reads them back in the same order.
	stored, err := Load(t.Context(), ms)
	if err != nil || len(stored) != len(want) {
		t.Fatalf("stored %d alerts, %v", len(stored), err)
	}
	if stored[len(stored)-1].Kind != KindFailing || stored[0].Kind != KindDisabled || stored[len(stored)-1].HTTPCode != 500 {
		t.Errorf("stored: %+v", stored)
	}
	// A new process starts from the stored alerts: the source's last state is "disabled",
	// so seeing it disabled again is no change.
	ob2 := New(Options{Store: ms, Log: quiet(), Now: func() time.Time { return clock }})
	ob2.Observe(state(news.HealthOK, ""), state(news.HealthDisabled, ""), poll.Result{})
	if got := ob2.Recent(t.Context()); len(got) != len(want) {
		t.Errorf("a restart repeated an alert: %d", len(got))
	}
}

func TestRingIsBounded(t *testing.T) {
	ms := &memStore{}
	clock := now
	ob := New(Options{Store: ms, Log: quiet(), Keep: 5, Now: func() time.Time { return clock }})
	for i := range 80 {
		clock = clock.Add(time.Minute)
		h := news.HealthFailing
		if i%2 == 1 {
			h = news.HealthOK
		}
		ob.Observe(state(news.HealthOK, ""), state(h, ""), poll.Result{})
	}
	if got := len(ob.Recent(t.Context())); got != 5 {
		t.Errorf("ring holds %d, want 5", got)
	}
	stored, _ := Load(t.Context(), ms)
	if len(stored) != MaxStored {
		t.Errorf("stored %d, want %d", len(stored), MaxStored)
	}
}

func TestWebhookRetries(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		code      int
		wantCalls int32
	}{
		{"fails twice, then delivered", 2, http.StatusInternalServerError, 3},
		{"429 is retried", 1, http.StatusTooManyRequests, 2},
		{"400 is not retried", 99, http.StatusBadRequest, 1},
		{"gives up after the attempts", 99, http.StatusBadGateway, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			var got Alert
			var text string
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("%s with %q", r.Method, r.Header.Get("Content-Type"))
				}
				if int(n) <= tc.failures {
					w.WriteHeader(tc.code)
					return
				}
				b, _ := io.ReadAll(r.Body)
				var body struct {
					Text string `json:"text"`
					Alert
				}
				if err := json.Unmarshal(b, &body); err != nil {
					t.Error(err)
				}
				got, text = body.Alert, body.Text
			}))
			defer hook.Close()
			cfg := &config.Config{Alerts: config.Alerts{WebhookURL: hook.URL + "/hook"}}
			ob := New(Options{Store: &memStore{}, Log: quiet(), Now: func() time.Time { return now }, Config: func() *config.Config { return cfg },
				Attempts: 4, Backoff: func(int) time.Duration { return time.Millisecond }})
			ob.Observe(state(news.HealthOK, ""), state(news.HealthFailing, "http_5xx"), poll.Result{})
			if err := ob.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := calls.Load(); n != tc.wantCalls {
				t.Errorf("%d calls, want %d", n, tc.wantCalls)
			}
			if int(tc.wantCalls) > tc.failures {
				if got.Kind != KindFailing || got.Source != src || got.HTTPCode != 500 || got.ID == "" {
					t.Errorf("delivered %+v", got)
				}
				if text != "iss-be: "+src+" is failing: the server had an internal error (HTTP 500)" {
					t.Errorf("text %q", text)
				}
			}
		})
	}
}

// brokenStore answers reads of source states but fails to read items or write.
type brokenStore struct{ memStore }

func (b *brokenStore) Items(context.Context, news.Query) ([]news.Item, error) {
	return nil, errors.New("store unavailable")
}

func (b *brokenStore) PutSource(context.Context, news.SourceState) error {
	return errors.New("store unavailable")
}

// TestLogLinesNameMemberAndSource: every line the observer logs about a source's change
// carries its member and source, its failures (reading items, persisting, the webhook)
// included.
func TestLogLinesNameMemberAndSource(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer hook.Close()
	cfg := &config.Config{Alerts: config.Alerts{WebhookURL: hook.URL + "/services/T0/B0/s3cr3t"}}
	var out bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), nil))
	ob := New(Options{Store: &brokenStore{}, Log: log, Now: func() time.Time { return now }, Config: func() *config.Config { return cfg }, Attempts: 1})
	ob.Observe(state(news.HealthFailing, "http_5xx"), state(news.HealthOK, ""), poll.Result{})
	if err := ob.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		seen[rec["msg"].(string)] = true
		if rec["member"] != "iss-be" || rec["source"] != src {
			t.Errorf("log line without its member and source: %s", line)
		}
	}
	if strings.Contains(out.String(), "s3cr3t") {
		t.Errorf("the webhook URL's secret path was logged: %s", out.String())
	}
	for _, msg := range []string{"alerts: read items to assess staleness", "source health changed", "alerts: persist", "alerts: webhook"} {
		if !seen[msg] {
			t.Errorf("no %q line was logged (the test no longer covers it): %s", msg, out.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// countingStore counts the item reads.
type countingStore struct {
	memStore
	reads int
}

func (c *countingStore) Items(ctx context.Context, q news.Query) ([]news.Item, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.memStore.Items(ctx, q)
}

// An ok source that listed an item in the last MinStale cannot be stale: its items are
// not read. One quiet for longer is assessed from its stored items, as before.
func TestObserveSkipsItemsOfAnActiveSource(t *testing.T) {
	cs := &countingStore{}
	clock := now
	ob := New(Options{Store: cs, Log: quiet(), Now: func() time.Time { return clock }})
	for i, d := range weekly(8, days(2)) {
		cs.items = append(cs.items, news.Item{ID: fmt.Sprint(i), Member: "iss-be", Source: src, Published: d})
	}
	active := state(news.HealthOK, "")
	active.NewestDated = now.Add(-days(2))
	ob.Observe(state(news.HealthUnknown, ""), active, poll.Result{URL: src})
	if cs.reads != 0 {
		t.Errorf("items read %d times for a source whose newest item is 2 days old", cs.reads)
	}
	// Three weeks on with nothing new: read, and stale.
	clock = clock.Add(days(21))
	ob.Observe(active, active, poll.Result{URL: src})
	if cs.reads != 1 {
		t.Errorf("items read %d times for a source quiet for 23 days, want 1", cs.reads)
	}
	if h, _, _ := ob.Health(src); h != news.HealthStale {
		t.Errorf("health %q, want stale", h)
	}
}

// TestWebhookSecretNotLogged: chat services put a webhook's secret in its path; a
// delivery that cannot connect logs the host, not the path (Go's error names the URL).
func TestWebhookSecretNotLogged(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // connection refused
	cfg := &config.Config{Alerts: config.Alerts{WebhookURL: dead.URL + "/services/T0/B0/s3cr3t?token=t0k3n"}}
	var out bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), nil))
	ob := New(Options{Store: &memStore{}, Log: log, Now: func() time.Time { return now }, Config: func() *config.Config { return cfg }, Attempts: 1})
	ob.Observe(state(news.HealthOK, ""), state(news.HealthFailing, "http_5xx"), poll.Result{})
	if err := ob.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(out.String(), "alerts: webhook") {
		t.Fatalf("no webhook failure logged: %s", out.String())
	}
	if strings.Contains(out.String(), "s3cr3t") || strings.Contains(out.String(), "t0k3n") {
		t.Errorf("the webhook URL's secret was logged: %s", out.String())
	}
}

// slowStore holds every PutSource until release is closed, and counts them.
type slowStore struct {
	memStore
	entered chan struct{} // receives once per PutSource, as it starts
	release chan struct{}
	puts    atomic.Int32
}

func (s *slowStore) PutSource(ctx context.Context, st news.SourceState) error {
	s.puts.Add(1)
	s.entered <- struct{}{}
	<-s.release
	return s.memStore.PutSource(ctx, st)
}

func sourceState(url string, h news.Health) news.SourceState {
	st := state(h, "")
	st.URL = url
	if h == news.HealthOK {
		st.NewestDated = now.Add(-days(1)) // active: its items are not read
	}
	return st
}

// While one source's alert waits for the store (a commit of the group it joined), the
// refreshes of other sources finish: Observe held the observer's lock through the store
// write, and in a first poll of 10,000 fleet feeds with 250 failing, the pollers spent 17%
// of their time waiting there. Alerts that come while a write is under way are stored
// together in the next one.
func TestAlertsWaitingForTheStoreHoldNoOneElse(t *testing.T) {
	ss := &slowStore{entered: make(chan struct{}, 10), release: make(chan struct{})}
	ob := New(Options{Store: ss, Log: quiet(), Now: func() time.Time { return now }})
	var wg sync.WaitGroup
	wg.Go(func() {
		ob.Observe(sourceState("https://a.example/feed", news.HealthOK), sourceState("https://a.example/feed", news.HealthFailing), poll.Result{})
	})
	<-ss.entered // the first alert's write is under way

	done := make(chan struct{})
	go func() {
		defer close(done)
		url := "https://b.example/feed"
		ob.Observe(sourceState(url, news.HealthOK), sourceState(url, news.HealthOK), poll.Result{URL: url})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(ss.release)
		t.Fatal("a refresh with no health change waited for another source's alert to be stored")
	}

	for _, host := range []string{"c", "d", "e"} {
		url := "https://" + host + ".example/feed"
		wg.Go(func() {
			ob.Observe(sourceState(url, news.HealthOK), sourceState(url, news.HealthFailing), poll.Result{})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		ob.mu.Lock()
		n := len(ob.pending)
		ob.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			close(ss.release)
			t.Fatalf("%d alerts pending, want 3", n)
		}
	}
	close(ss.release)
	wg.Wait()
	if n := ss.puts.Load(); n != 2 {
		t.Errorf("%d writes of the alerts record for 4 alerts, 3 of them waiting together: want 2", n)
	}
	stored, err := Load(t.Context(), ss)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 4 {
		t.Errorf("%d alerts stored, want 4", len(stored))
	}
}

// A page whose date selector stops matching while its items still come keeps its health
// (ok) but gets one alert naming the selector, one more when another field's stops
// matching too or the first matches again while the other does not (the first warning
// alone was alerted: a second field lost went unreported), and one when all match again.
func TestObserverWarnings(t *testing.T) {
	ms := &memStore{}
	clock := now
	ob := New(Options{Store: ms, Log: quiet(), Now: func() time.Time { return clock }})
	for i, d := range weekly(8, days(2)) {
		ms.items = append(ms.items, news.Item{ID: fmt.Sprint(i), Member: "iss-be", Source: src, Published: d})
	}
	warned := func(w string) news.SourceState {
		st := state(news.HealthOK, "")
		st.Warning = w
		return st
	}
	const w12, w13 = "date selector `.date` matched none of 12 items", "date selector `.date` matched none of 13 items"
	const title = "title selector `h3` matched none of 13 items"
	steps := []struct {
		name          string
		before, after news.SourceState
		want          string
	}{
		{"first poll ok", state(news.HealthUnknown, ""), state(news.HealthOK, ""), ""},
		{"date selector stops matching", state(news.HealthOK, ""), warned(w12), KindWarning},
		{"still not matching, one item more", warned(w12), warned(w13), ""},
		{"the title selector stops matching too", warned(w13), warned(w13 + "; " + title), KindWarning},
		{"both still not matching", warned(w13 + "; " + title), warned(w12 + "; " + title), ""},
		{"the date selector matches again, the title's not", warned(w12 + "; " + title), warned(title), KindWarning},
		{"matches again", warned(title), state(news.HealthOK, ""), KindRecovered},
		{"stops matching again", state(news.HealthOK, ""), warned(w12), KindWarning},
	}
	var want []string
	for _, s := range steps {
		clock = clock.Add(time.Hour)
		ob.Observe(s.before, s.after, poll.Result{URL: src})
		if h, _, _ := ob.Health(src); h != news.HealthOK {
			t.Errorf("after %q: Health = %q, want ok", s.name, h)
		}
		if s.want != "" {
			want = append([]string{s.want}, want...)
		}
		got := ob.Recent(t.Context())
		if len(got) != len(want) {
			t.Fatalf("after %q: %d alerts, want %d (%+v)", s.name, len(got), len(want), got)
		}
		if len(want) > 0 && got[0].Kind != want[0] {
			t.Fatalf("after %q: alert is %s, want %s", s.name, got[0].Kind, want[0])
		}
	}
	a := ob.Recent(t.Context())[0]
	if a.Warning != w12 || a.From != news.HealthOK || a.To != news.HealthOK || !strings.Contains(a.Text(), w12) {
		t.Errorf("warning alert = %+v, text %q", a, a.Text())
	}
	// Another process starts from the stored alerts: the warning still there is no change.
	ob2 := New(Options{Store: ms, Log: quiet(), Now: func() time.Time { return clock }})
	ob2.Observe(state(news.HealthOK, ""), warned(w13), poll.Result{URL: src})
	if got := ob2.Recent(t.Context()); len(got) != len(want) {
		t.Errorf("a restart repeated the warning: %d alerts, want %d", len(got), len(want))
	}
	// Failing then (the warning kept from the last read): a failing alert, not a warning.
	failing := state(news.HealthFailing, "http_5xx")
	failing.Warning = w12
	ob2.Observe(warned(w12), failing, poll.Result{URL: src})
	if got := ob2.Recent(t.Context()); got[0].Kind != KindFailing || got[0].Warning != "" {
		t.Errorf("failing with a warning kept: %+v", got[0])
	}
}

// flakyStore fails the writes whose numbers (from 1) are in fail; write number block
// waits for release first.
type flakyStore struct {
	memStore
	fail    map[int32]bool
	block   int32
	entered chan struct{}
	release chan struct{}
	puts    atomic.Int32
}

func (s *flakyStore) PutSource(ctx context.Context, st news.SourceState) error {
	n := s.puts.Add(1)
	if n == s.block {
		s.entered <- struct{}{}
		<-s.release
	}
	if s.fail[n] {
		return errors.New("store unavailable")
	}
	return s.memStore.PutSource(ctx, st)
}

// Alerts that shared a write that failed are written by the next one (another alert's,
// or Close's): the refresh whose write it was may have run out of time waiting its turn
// (each Observe has 10 s), and the alerts of others, recorded while it waited, were lost
// with it; and `poll`, whose last alert's write failed, exited without it.
func TestAlertsOfAFailedWriteAreWrittenLater(t *testing.T) {
	observe := func(ob *Observer, host string) {
		url := "https://" + host + ".example/feed"
		ob.Observe(sourceState(url, news.HealthOK), sourceState(url, news.HealthFailing), poll.Result{})
	}
	sources := func(st *flakyStore) []string {
		stored, err := Load(t.Context(), st)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range stored {
			out = append(out, a.Source)
		}
		slices.Sort(out)
		return out
	}

	t.Run("shared write failed", func(t *testing.T) {
		// x's write is under way; a and b record theirs meanwhile and wait; the write
		// that takes both fails; the other must not find nothing to do.
		fs := &flakyStore{fail: map[int32]bool{2: true}, block: 1, entered: make(chan struct{}, 1), release: make(chan struct{})}
		ob := New(Options{Store: fs, Log: quiet(), Now: func() time.Time { return now }})
		var wg sync.WaitGroup
		wg.Go(func() { observe(ob, "x") })
		<-fs.entered
		wg.Go(func() { observe(ob, "a") })
		wg.Go(func() { observe(ob, "b") })
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			ob.mu.Lock()
			n := len(ob.pending)
			ob.mu.Unlock()
			if n == 2 {
				break
			}
			if time.Now().After(deadline) {
				close(fs.release)
				t.Fatalf("%d alerts pending, want 2", n)
			}
		}
		close(fs.release)
		wg.Wait()
		want := []string{"https://a.example/feed", "https://b.example/feed", "https://x.example/feed"}
		if got := sources(fs); !slices.Equal(got, want) {
			t.Errorf("alerts stored for %v, want %v", got, want)
		}
	})

	t.Run("last write failed, Close writes it", func(t *testing.T) {
		fs := &flakyStore{fail: map[int32]bool{1: true}}
		ob := New(Options{Store: fs, Log: quiet(), Now: func() time.Time { return now }})
		observe(ob, "a")
		if err := ob.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := sources(fs); !slices.Equal(got, []string{"https://a.example/feed"}) {
			t.Errorf("alerts stored after Close for %v, want a's", got)
		}
	})
}

// outageStore is a memStore that answers nothing while down.
type outageStore struct {
	memStore
	down atomic.Bool
}

var errOutage = fmt.Errorf("read: %w", store.ErrUnavailable)

func (s *outageStore) Items(ctx context.Context, q news.Query) ([]news.Item, error) {
	if s.down.Load() {
		return nil, errOutage
	}
	return s.memStore.Items(ctx, q)
}

func (s *outageStore) Source(ctx context.Context, url string) (news.SourceState, error) {
	if s.down.Load() {
		return news.SourceState{}, errOutage
	}
	return s.memStore.Source(ctx, url)
}

func (s *outageStore) PutSource(ctx context.Context, st news.SourceState) error {
	if s.down.Load() {
		return errOutage
	}
	return s.memStore.PutSource(ctx, st)
}

// A store outage is no change of a source's health: a stale source whose items could
// not be read was reported recovered, then stale again once the store answered; and a
// failure whose source state could not be written (its alert was, later) was alerted
// again by the next worker to poll the source, which read the older state.
func TestStoreOutageMakesNoAlertOfItsOwn(t *testing.T) {
	kinds := func(as []Alert) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Kind)
		}
		return out
	}
	t.Run("stale source, items unreadable", func(t *testing.T) {
		outage := &outageStore{}
		for i, d := range weekly(8, days(30)) { // weekly items, none for a month: stale
			outage.items = append(outage.items, news.Item{ID: fmt.Sprint(i), Member: "iss-be", Source: src, Published: d})
		}
		clock := now
		ob := New(Options{Store: outage, Log: quiet(), Now: func() time.Time { return clock }})
		for _, down := range []bool{false, true, false} {
			outage.down.Store(down)
			clock = clock.Add(time.Hour)
			ob.Observe(state(news.HealthOK, ""), state(news.HealthOK, ""), poll.Result{URL: src})
			if h, _, _ := ob.Health(src); h != news.HealthStale {
				t.Errorf("store down %v: Health = %s, want stale", down, h)
			}
		}
		if got := kinds(ob.Recent(t.Context())); !slices.Equal(got, []string{KindStale}) {
			t.Errorf("alerts %v, want one stale", got)
		}
	})
	t.Run("failure alerted by another worker", func(t *testing.T) {
		outage := &outageStore{}
		clock := now
		w1 := New(Options{Store: outage, Log: quiet(), Now: func() time.Time { return clock }})
		w2 := New(Options{Store: outage, Log: quiet(), Now: func() time.Time { return clock }})
		w2.Recent(t.Context()) // w2 has read the stored alerts: none
		// w1's poll finds the source failing while the store is away: neither its state
		// nor the alert is written then; the alert is, when the store is back.
		outage.down.Store(true)
		clock = clock.Add(time.Hour)
		w1.Observe(state(news.HealthOK, ""), state(news.HealthFailing, "http_5xx"), poll.Result{URL: src})
		outage.down.Store(false)
		if err := w1.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		// w2 polls it next, from the state stored before the failure.
		clock = clock.Add(time.Hour)
		w2.Observe(state(news.HealthOK, ""), state(news.HealthFailing, "http_5xx"), poll.Result{URL: src})
		stored, err := Load(t.Context(), outage)
		if err != nil {
			t.Fatal(err)
		}
		if got := kinds(stored); !slices.Equal(got, []string{KindFailing}) {
			t.Errorf("alerts stored %v, want one failing", got)
		}
		if got := kinds(w2.Recent(t.Context())); !slices.Equal(got, []string{KindFailing}) {
			t.Errorf("second worker's alerts %v, want w1's failing", got)
		}
	})
}

// TestRenamedMemberStartsAfresh: a source whose member's id changed (or that moved to
// another member) is the new member's from unknown, as poll.Refresh has it (its before
// is empty): it neither recovers from the old member's failing nor stays in it. The
// new member's first ok poll was alerted "recovered" (from the old member's failing),
// and its first failing one was no alert at all, in this process and in one that read
// the old member's alerts from the store.
func TestRenamedMemberStartsAfresh(t *testing.T) {
	renamed := func(h news.Health, kind string) news.SourceState {
		st := state(h, kind)
		st.Member = "iss-belgium"
		return st
	}
	for _, restart := range []bool{false, true} {
		for _, tc := range []struct {
			name  string
			after news.SourceState
			want  string // kind, or "" for no alert
		}{
			{"first poll ok", renamed(news.HealthOK, ""), ""},
			{"first poll failing", renamed(news.HealthFailing, "http_5xx"), KindFailing},
		} {
			t.Run(fmt.Sprintf("%s, restart %v", tc.name, restart), func(t *testing.T) {
				ms := &memStore{}
				ob := New(Options{Store: ms, Log: quiet(), Now: func() time.Time { return now }})
				ob.Observe(state(news.HealthUnknown, ""), state(news.HealthOK, ""), poll.Result{URL: src})
				ob.Observe(state(news.HealthOK, ""), state(news.HealthFailing, "http_5xx"), poll.Result{URL: src})
				if restart {
					ob = New(Options{Store: ms, Log: quiet(), Now: func() time.Time { return now.Add(time.Hour) }})
				}
				ob.Observe(news.SourceState{}, tc.after, poll.Result{URL: src})
				got := ob.Recent(t.Context())
				if len(got) == 0 || got[len(got)-1].Kind != KindFailing || got[len(got)-1].Member != "iss-be" {
					t.Fatalf("alerts %+v: want the old member's failing first", got)
				}
				var kinds []string
				for _, a := range got[:len(got)-1] {
					kinds = append(kinds, a.Member+" "+a.Kind)
				}
				var want []string
				if tc.want != "" {
					want = []string{"iss-belgium " + tc.want}
				}
				if !slices.Equal(kinds, want) {
					t.Errorf("alerts after the rename %q, want %q", kinds, want)
				}
			})
		}
	}
}
