// Package alerts notices when a source's health changes (it starts failing, goes stale,
// recovers, its selectors stop matching, some of its field selectors stop matching while
// its items still come, it is disabled), keeps a bounded record of
// those changes for the alerts feed, and posts each one to a webhook.
//
// Changes are observed where a refresh finishes: Observer.Observe has the signature of
// poll.Refresher.Observe. Each process keeps the newest changes in memory and also
// writes the newest MaxStored of them into the store, under the reserved source URL
// StoreKey, so that a web front in another process (and the next start) sees them; Load
// reads them back. The store has no alert records of its own: each alert is one
// news.PollRecord of that pseudo-source, its Error field holding the alert as JSON.
package alerts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
)

// StoreKey is the reserved source URL under which alerts are persisted. It is not a URL
// any member source can have, and no configured source is ever joined with it.
const StoreKey = "alerts:"

// MaxStored is how many alerts are persisted (the store's history bound).
const MaxStored = news.MaxHistory

// Kinds of change.
const (
	KindFailing   = "failing"
	KindSelectors = "selectors"
	KindStale     = "stale"
	KindRecovered = "recovered"
	KindDisabled  = "disabled"
	// KindWarning: the source still yields items (its health stays ok), but a field
	// selector of its no longer matches any of them (news.SourceState.Warning).
	KindWarning = "warning"
)

// Alert is one health change of one source.
type Alert struct {
	ID        string      `json:"id"`
	At        time.Time   `json:"at"`
	Kind      string      `json:"kind"`
	Member    string      `json:"member"`
	Source    string      `json:"source"`
	From      news.Health `json:"from"`
	To        news.Health `json:"to"`
	HTTPCode  int         `json:"http_code,omitempty"`
	ErrorKind string      `json:"error_kind,omitempty"`
	Error     string      `json:"error,omitempty"`
	// Warning is the source's warning, for a KindWarning alert.
	Warning string `json:"warning,omitempty"`
}

// Text is the alert in one English sentence (webhook "text", feed entry title).
func (a Alert) Text() string {
	var s string
	switch a.Kind {
	case KindFailing:
		s = "is failing"
	case KindSelectors:
		s = "no longer matches its selectors"
	case KindStale:
		s = "has gone stale (no new item for longer than usual)"
	case KindRecovered:
		s = "has recovered"
	case KindDisabled:
		s = "is disabled"
	case KindWarning:
		s = "still yields items, but not all its selectors match"
	default:
		s = "changed from " + string(a.From) + " to " + string(a.To)
	}
	out := a.Member + ": " + a.Source + " " + s
	if a.Error != "" && (a.Kind == KindFailing || a.Kind == KindSelectors) {
		out += ": " + a.Error
	}
	if a.Warning != "" && a.Kind == KindWarning {
		out += ": " + a.Warning
	}
	return out
}

// Store is what the Observer needs: a source's state (to persist alerts under StoreKey)
// and a member's items (to tell whether a source is stale).
type Store interface {
	Items(ctx context.Context, q news.Query) ([]news.Item, error)
	Source(ctx context.Context, url string) (news.SourceState, error)
	PutSource(ctx context.Context, st news.SourceState) error
}

// Options configure an Observer.
type Options struct {
	Store Store
	// Config gives alerts.webhook_url; it is read on every alert, so reloads apply.
	Config func() *config.Config
	// Client posts to the webhook (default: a client with a 10 s timeout).
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time
	// Attempts is how many times a webhook POST is tried (default 5).
	Attempts int
	// Backoff is the wait before retry n (1, 2, ...); default 2s doubled per retry.
	Backoff func(n int) time.Duration
	// Keep is the size of the in-memory ring (default 200).
	Keep int
}

// Observer detects health changes and records and sends them.
type Observer struct {
	o      Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	ring    []Alert             // newest first, at most o.Keep
	health  map[string]assessed // source URL -> its last known state
	loaded  bool                // the stored record has been merged into ring
	pending []Alert             // recorded in ring, not yet written to the store

	// storing is held while the stored record is read, merged and written (see
	// Observer.store), never with mu: a refresh that changes no health must not wait for
	// another's alert to reach the store.
	storing sync.Mutex
	// unwritten are the IDs of alerts pending again after a failed write, whose failure
	// was logged (with storing).
	unwritten map[string]bool
}

// New returns an Observer; call Close when done to let webhook deliveries finish.
func New(o Options) *Observer {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.Backoff == nil {
		o.Backoff = func(n int) time.Duration { return 2 * time.Second << (n - 1) }
	}
	if o.Keep <= 0 {
		o.Keep = 200
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Observer{o: o, ctx: ctx, cancel: cancel, health: map[string]assessed{}}
}

// stateKey is the health as alerts distinguish it: failing because the selectors no
// longer match is its own state, and so is ok with each warning (the field selectors
// that match no item: another field missing too is another state, and a new alert;
// the page's item count in it is not, see poll.WarningKey).
func stateKey(h news.Health, errKind, warning string) string {
	if h == news.HealthFailing && errKind == "selectors" {
		return "failing/selectors"
	}
	if h == news.HealthOK && warning != "" {
		return warningKey + poll.WarningKey(warning)
	}
	return string(h)
}

// warningKey begins the state key of an ok source with a warning.
const warningKey = "ok/warning:"

// Health is the health this process assessed for the source at url after its last
// refresh of it (stale included, which the store does not keep), and that refresh's
// LastPoll: another process may have polled the source since. False when it refreshed
// none.
func (ob *Observer) Health(url string) (news.Health, time.Time, bool) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	a, ok := ob.health[url]
	if !ok {
		return "", time.Time{}, false
	}
	h, _, _ := strings.Cut(a.key, "/")
	return news.Health(h), a.polled, true
}

// assessed is a source's state key (stateKey), the LastPoll it was assessed for and the
// member it was polled for.
type assessed struct {
	key, member string
	polled      time.Time
}

// Observe is called after every refresh (poll.Refresher.Observe). It assesses the
// source's health after the refresh, compares it with the last known one, and on a
// change records an alert and posts it to the webhook in the background.
func (ob *Observer) Observe(before, after news.SourceState, r poll.Result) {
	ctx, cancel := context.WithTimeout(ob.ctx, 10*time.Second)
	defer cancel()
	now := ob.o.Now()
	log := ob.o.Log.With("member", after.Member, "source", after.URL)
	o := observed{before: before, after: after, cur: after.Health, now: now}
	// A source whose newest item is no older than the least quiet time that makes any
	// source stale cannot be stale (Assess's newest item is at least as recent): its
	// items are not read. That is every refresh of an active source.
	if o.cur == news.HealthOK && (after.NewestDated.IsZero() || now.Sub(after.NewestDated) > MinStale) {
		items, err := ob.o.Store.Items(ctx, ItemsQuery(after.Member, now))
		if err != nil {
			log.Warn("alerts: read items to assess staleness", "err", err)
			o.unassessed = true
		} else {
			o.cur = Assess(after, DatesOf(items, after.URL), now).Health
		}
	}
	a, changed, unsure := ob.record(ctx, log, o)
	if unsure {
		// The first change this process sees of the source: another process may have
		// alerted it already, after this one read the stored alerts, and its state in
		// the store may be older than that alert (its write failed while the store was
		// away, the alert's was retried): the source's poll by another worker then
		// alerted the same failure twice. Read the stored alerts again and decide.
		ob.reload(ctx)
		o.checked = true
		a, changed, _ = ob.record(ctx, log, o)
	}
	if !changed {
		return
	}
	ob.store(ctx)
	if cfg := ob.o.Config; cfg != nil {
		if c := cfg(); c != nil && c.Alerts.WebhookURL != "" {
			hook := c.Alerts.WebhookURL
			ob.wg.Go(func() {
				if err := ob.post(ob.ctx, hook, a); err != nil {
					log.Error("alerts: webhook", "url", redact(hook), "alert", a.ID, "err", err)
				}
			})
		}
	}
}

// observed is one refresh as Observe assessed it.
type observed struct {
	before, after news.SourceState
	cur           news.Health // after.Health, or stale
	now           time.Time
	// unassessed: the source's items could not be read (the store did not answer), so
	// staleness was not assessed: a stale source stays stale (it was reported recovered,
	// then stale again once the store answered).
	unassessed bool
	// checked: the stored alerts were read again for this change (see record's unsure).
	checked bool
}

// record notes the source's health after a refresh and, when it changed, the alert, in
// memory (the ring, and pending for the store). It records nothing and returns unsure
// when the change is the first this process sees of the source and the stored alerts
// were not read again for it (o.checked).
func (ob *Observer) record(ctx context.Context, log *slog.Logger, o observed) (a Alert, changed, unsure bool) {
	before, after, cur, now := o.before, o.after, o.cur, o.now
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.loadLocked(ctx)
	last, known := ob.health[after.URL]
	// A state another member left (its member's id changed, or the source moved: one
	// member removed and one added) is none of this one's, as poll.Refresh has it: the
	// new member's source starts from unknown, and neither recovers from nor stays in the
	// old member's failing or stale.
	known = known && last.member == after.Member
	prev := last.key
	if !known {
		bh := before.Health
		if bh == "" { // never polled: no state stored
			bh = news.HealthUnknown
		}
		prev = stateKey(bh, before.ErrorKind, before.Warning)
		if i := slices.IndexFunc(ob.ring, func(a Alert) bool { return a.Source == after.URL && a.Member == after.Member }); i >= 0 {
			prev = stateKey(ob.ring[i].To, ob.ring[i].ErrorKind, ob.ring[i].Warning)
		}
	}
	if o.unassessed && prev == string(news.HealthStale) {
		cur = news.HealthStale
	}
	next := stateKey(cur, after.ErrorKind, after.Warning)
	kind := changeKind(prev, next)
	if kind != "" && !known && !o.checked {
		return Alert{}, false, true
	}
	ob.health[after.URL] = assessed{key: next, member: after.Member, polled: after.LastPoll}
	if kind == "" {
		return Alert{}, false, false
	}
	from, _, _ := strings.Cut(prev, "/")
	a = Alert{At: now.UTC(), Kind: kind, Member: after.Member, Source: after.URL, From: news.Health(from), To: cur,
		HTTPCode: after.HTTPCode, ErrorKind: after.ErrorKind, Error: after.Error}
	if kind == KindWarning {
		a.Warning = after.Warning
	}
	sum := sha256.Sum256([]byte(a.Source + "\x00" + a.At.Format(time.RFC3339Nano) + "\x00" + a.Kind))
	a.ID = "alert-" + hex.EncodeToString(sum[:10])
	ob.ring = append([]Alert{a}, ob.ring...)
	if len(ob.ring) > ob.o.Keep {
		ob.ring = ob.ring[:ob.o.Keep]
	}
	log.Info("source health changed", "from", a.From, "to", a.To, "kind", a.Kind)
	ob.pending = append(ob.pending, a)
	return a, true, false
}

// changeKind names the change from state key prev to next, or "" when it is not worth
// an alert (no change, or a first poll that went well).
func changeKind(prev, next string) string {
	if prev == next {
		return ""
	}
	if strings.HasPrefix(next, warningKey) {
		return KindWarning // a first warning, or another one
	}
	switch next {
	case "failing/selectors":
		return KindSelectors
	case string(news.HealthFailing):
		if prev == "failing/selectors" {
			return "" // still failing, for another reason: the dashboard shows it
		}
		return KindFailing
	case string(news.HealthStale):
		return KindStale
	case string(news.HealthDisabled):
		return KindDisabled
	case string(news.HealthOK):
		if prev == string(news.HealthUnknown) || prev == "" {
			return ""
		}
		return KindRecovered
	}
	return ""
}

// Recent returns the alerts this process knows, newest first (including those stored
// by other processes when it started).
func (ob *Observer) Recent(ctx context.Context) []Alert {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.loadLocked(ctx)
	return slices.Clone(ob.ring)
}

// reload merges the stored alerts into the ring again: other processes' alerts since
// loadLocked's read.
func (ob *Observer) reload(ctx context.Context) {
	stored, err := Load(ctx, ob.o.Store)
	if err != nil {
		ob.o.Log.Warn("alerts: read stored alerts", "err", err)
		return
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.loaded = true
	ob.ring = merge(ob.ring, stored, ob.o.Keep)
}

// loadLocked merges the stored alerts into the ring once.
func (ob *Observer) loadLocked(ctx context.Context) {
	if ob.loaded {
		return
	}
	stored, err := Load(ctx, ob.o.Store)
	if err != nil {
		ob.o.Log.Warn("alerts: read stored alerts", "err", err)
		return
	}
	ob.loaded = true
	ob.ring = merge(ob.ring, stored, ob.o.Keep)
}

// store writes the pending alerts to the store, and returns once those pending when it
// was called are written (or failed). The alerts of refreshes that end together share
// one write: a first poll in which hundreds of sources fail wrote one record per alert,
// each waiting for a commit, and every other refresh waited behind them. A write that
// fails leaves its alerts pending for the next one (another alert's, or Close's): the
// refresh whose write it was may have run out of time waiting its turn, and the alerts
// of others that shared it are not to be lost with it.
func (ob *Observer) store(ctx context.Context) {
	ob.storing.Lock()
	defer ob.storing.Unlock()
	ob.mu.Lock()
	batch := ob.pending
	ob.pending = nil
	ob.mu.Unlock()
	if len(batch) == 0 {
		return // written by the call before, which took them while this one waited
	}
	err := ob.persist(ctx, batch)
	if err == nil {
		clear(ob.unwritten)
		return
	}
	if ob.unwritten == nil {
		ob.unwritten = map[string]bool{}
	}
	for _, a := range batch {
		level := slog.LevelError
		if ob.unwritten[a.ID] {
			level = slog.LevelDebug // logged when its first write failed
		}
		ob.unwritten[a.ID] = true
		ob.o.Log.Log(ctx, level, "alerts: persist", "member", a.Member, "source", a.Source, "alert", a.ID, "err", err)
	}
	ob.mu.Lock()
	ob.pending = merge(batch, ob.pending, MaxStored)
	ob.mu.Unlock()
}

// persist adds batch to the stored record (read, merge, write: a concurrent writer in
// another process can lose one alert from the stored record, never from its own ring).
func (ob *Observer) persist(ctx context.Context, batch []Alert) error {
	stored, err := Load(ctx, ob.o.Store)
	if err != nil {
		return err
	}
	return Put(ctx, ob.o.Store, merge(batch, stored, MaxStored))
}

// SourceWriter writes one source state.
type SourceWriter interface {
	PutSource(ctx context.Context, st news.SourceState) error
}

// Put stores all (newest first) as the alerts record, in place of the one stored.
func Put(ctx context.Context, s SourceWriter, all []Alert) error {
	st := news.SourceState{URL: StoreKey, Kind: "alerts", Health: news.HealthUnknown, Polls: len(all)}
	if len(all) > 0 {
		st.LastPoll = all[0].At
	}
	for _, x := range all {
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("encode alert: %w", err)
		}
		st.History = append(st.History, news.PollRecord{At: x.At, HTTPCode: x.HTTPCode, Error: string(b)})
	}
	if err := s.PutSource(ctx, st); err != nil {
		return fmt.Errorf("store alerts: %w", err)
	}
	return nil
}

// merge joins two newest-first lists without duplicates, newest first, at most n.
func merge(a, b []Alert, n int) []Alert {
	seen := map[string]bool{}
	var out []Alert
	for _, x := range slices.Concat(a, b) {
		if !seen[x.ID] {
			seen[x.ID] = true
			out = append(out, x)
		}
	}
	slices.SortStableFunc(out, func(x, y Alert) int { return y.At.Compare(x.At) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// SourceReader reads one source state.
type SourceReader interface {
	Source(ctx context.Context, url string) (news.SourceState, error)
}

// Load reads the persisted alerts, newest first; none stored is not an error.
func Load(ctx context.Context, s SourceReader) ([]Alert, error) {
	st, err := s.Source(ctx, StoreKey)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("read stored alerts: %w", err)
	}
	return Decode(st), nil
}

// Decode reads the alerts out of the pseudo-source state stored under StoreKey.
func Decode(st news.SourceState) []Alert {
	out := make([]Alert, 0, len(st.History))
	for _, rec := range st.History {
		var a Alert
		if json.Unmarshal([]byte(rec.Error), &a) == nil && a.ID != "" {
			out = append(out, a)
		}
	}
	return out
}

// post sends one alert to the webhook as JSON, retrying network errors, 429 and 5xx
// with backoff until Attempts are used up or ctx ends.
func (ob *Observer) post(ctx context.Context, hook string, a Alert) error {
	body, err := json.Marshal(struct {
		Text string `json:"text"`
		Alert
	}{a.Text(), a})
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	var last error
	for n := 1; n <= ob.o.Attempts; n++ {
		if n > 1 {
			t := time.NewTimer(ob.o.Backoff(n - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("post alert: %w (last: %w)", ctx.Err(), last)
			case <-t.C:
			}
		}
		retry, err := ob.postOnce(ctx, hook, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return fmt.Errorf("post alert after %d attempts: %w", ob.o.Attempts, last)
}

func (ob *Observer) postOnce(ctx context.Context, hook string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "networkfeed-alerts/1.0")
	resp, err := ob.o.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redact(ue.URL)
		}
		return true, fmt.Errorf("post webhook: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("post webhook: HTTP %d", resp.StatusCode)
	}
	return false, fmt.Errorf("post webhook: HTTP %d (not retried)", resp.StatusCode)
}

// Close writes the alerts a failed write left pending (within ctx; a failure is logged),
// and waits for webhook deliveries in flight until ctx ends, then abandons them.
func (ob *Observer) Close(ctx context.Context) error {
	ob.store(ctx) // alerts whose write failed: once more
	done := make(chan struct{})
	go func() { ob.wg.Wait(); close(done) }()
	select {
	case <-done:
		ob.cancel()
		return nil
	case <-ctx.Done():
		ob.cancel()
		<-done
		return fmt.Errorf("close alerts: %w", ctx.Err())
	}
}

// redact is a webhook URL as logs show it: its scheme and host. Chat services' webhook
// URLs carry their secret in the path (Slack's /services/T…/B…/token) or the query, and
// logs are read by more people than the config.
func redact(hook string) string {
	u, err := url.Parse(hook)
	if err != nil || u.Host == "" {
		return "(webhook URL)"
	}
	if u.Path == "" && u.RawQuery == "" && u.User == nil {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}
