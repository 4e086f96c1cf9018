// Package poll refreshes sources: Refresh does one source end to end (fetch, parse or
// scrape, clean, key, store, record its health) and Scheduler decides when each source
// is due and which process polls it.
package poll

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iss-network/networkfeed/internal/clean"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/feed"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/page"
	"github.com/iss-network/networkfeed/internal/store"
)

// Store is what polling needs from the store.
type Store interface {
	Upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error)
	ItemsByKey(ctx context.Context, member string, keys []string) ([]news.Item, error)
	CarryTombstones(ctx context.Context, ids map[string]string) ([]string, error)
	Source(ctx context.Context, url string) (news.SourceState, error)
	PutSource(ctx context.Context, st news.SourceState) error
	Trim(ctx context.Context, source string, maxItems int, maxAge time.Duration, now time.Time) (int, error)
	Claim(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, name, owner string) error
}

// Fetcher is what polling needs from the HTTP client.
type Fetcher interface {
	Get(ctx context.Context, r fetch.Request) (*fetch.Response, error)
}

// Job is one source of one member.
type Job struct {
	Member *config.Member // the config's own (shared by its sources' jobs; not to be changed)
	Source config.Source
}

// URL of the job's source (its identity in the store).
func (j Job) URL() string { return j.Source.URL() }

// Jobs lists every enabled source of cfg (a member or source marked disabled in the
// config is not polled; the dashboard still lists it).
func Jobs(cfg *config.Config) []Job {
	out := make([]Job, 0, len(cfg.Members)) // most members have one source
	for i := range cfg.Members {
		m := &cfg.Members[i]
		if m.Disabled {
			continue
		}
		for _, s := range m.AllSources() {
			if s.Disabled {
				continue
			}
			out = append(out, Job{Member: m, Source: s})
		}
	}
	return out
}

// Result is what one refresh did.
type Result struct {
	URL       string
	Member    string
	New       int
	Updated   int
	Unchanged int
	Found     int // items the source yielded
	Duplicate int // items dropped as repeats of another item of the same poll
	NotMod    bool
	Err       error
	Duration  time.Duration
	Bytes     int // body bytes of every response read: the source's, a discovered feed's, linked pages'
	// Via says how items were found: "feed", "discovered feed <url>", "selectors",
	// or "detected (<tier>)"; Inferred holds the selectors automatic detection used
	// (nil otherwise: a poll keeps every source's result).
	Via      string
	Inferred *page.Selectors
	// Warning names, in plain words, the field selectors of a page read with selectors
	// that matched nothing in any item, though items were found ("" when all matched);
	// recorded as the source's news.SourceState.Warning.
	Warning string
	// Health, NextPoll, RetryAfter and Redirect (where the source moved permanently: its
	// URL in feeds.yaml is to be updated) are what the refresh recorded for the source.
	Health     news.Health
	NextPoll   time.Time
	RetryAfter time.Time
	Redirect   string
	// StateErr is the store's error writing the source's state after the refresh (nil
	// when written): the refresh did what Err says, its items stored or not as it says,
	// but the source's health, validators and next poll were not recorded.
	StateErr error

	base string // the URL the items' relative links resolve against
	// unrecorded counts the stored items, still listed, that earlier refreshes of the
	// source wrote without recording a success (unrecordedSeen: the newest one's first
	// sighting); see unrecordedItems.
	unrecorded     int
	unrecordedSeen time.Time
	// newestDated is the newest date of the poll's dated items as the store keeps them
	// (see dropUnchanged).
	newestDated time.Time
	// linkedLeft is what is left of the budget for requests to linked URLs (offSlot),
	// once linkedSet.
	linkedLeft time.Duration
	linkedSet  bool
	// recorded is the state the refresh recorded for the source (set with NextPoll).
	recorded news.SourceState
}

// Refresher does one refresh of one source.
type Refresher struct {
	Fetch  Fetcher
	Store  Store
	Clean  *clean.Cleaner
	Log    *slog.Logger
	Now    func() time.Time
	Config func() *config.Config
	// Observe, when set, is told about every finished refresh (metrics, alerts).
	Observe func(before, after news.SourceState, r Result)
	// Processing bounds how many refreshes parse, clean and store at once, once their
	// source has answered (0: DefaultProcessing, or what the store asks for, see
	// writeQueue). Fetches wait on the network and take
	// little memory; what a refresh holds after that (the parsed and cleaned items) is
	// what many workers waiting on one store would otherwise pile up.
	Processing int
	// Parsing bounds how many refreshes parse and clean at once (0: GOMAXPROCS). Of
	// the refreshes holding a processing slot, only this many compete for the CPUs; the
	// others wait here instead of in the scheduler's run queue, where the embedded
	// store's writer (the one goroutine every write goes through) would wait behind
	// them. (While that writer also ranked cluster candidates, one slot fewer than the
	// CPUs was faster; now that each write's caller does that, it is not: at N=10,000
	// fleet feeds on 2 CPUs, medians of 32.0 s with two slots and 35.3 s with one,
	// BENCHMARKS.md.)
	Parsing int
	// ReadAhead bounds how many refreshes read their source's answer, or hold it read,
	// while waiting for a processing slot (0: four times as many as there are
	// processing slots). The others wait once their source has answered, before its
	// body is read (fetch.Request.Ready): the body waits in the connection, not in
	// memory. Without that bound every worker of a poll whose sources answer faster than
	// they can be processed held a body: at N=10,000 loopback feeds with 256 workers,
	// about 9 MB of live heap on Redis. The bound is also how many bodies download at
	// once while processing is busy, so it is not smaller: 64 bodies of 0.1–0.3 s each
	// (a few round trips over the internet) still come faster than 2 CPUs process them.
	ReadAhead int

	// trimOwed holds the URLs of the sources whose last retention trim failed (a
	// source URL → true), trimmed again at their next poll by this Refresher (a later
	// `poll` run, another process, trims with the next new item or 16th poll).
	trimOwed sync.Map
	// unsaved is set while the store cannot save items (store.ErrWrite, a full disk): the
	// first such poll is logged as an error, the rest at debug level (each source's state
	// says it), until a poll's items are saved again.
	unsaved atomic.Bool

	busyOnce sync.Once
	busy     chan struct{}
	cpu      chan struct{}
	ahead    chan struct{}
}

// DefaultProcessing is Refresher.Processing when it is not set and the store does not
// ask for more (see writeQueue). On Redis, 16 polled 10,000 fleet feeds as fast as 32
// (50.9 / 55.0 s against 50.6 / 57.5 s) with 5–12 MB less peak RSS.
const DefaultProcessing = 16

// writeQueue is implemented by a store that commits the writes waiting at one moment
// together (the embedded store's group commit): the more refreshes queued on it, the
// fewer commits, so it says how many are worth queueing.
type writeQueue interface {
	WriteQueue() int
}

// stager is implemented by a store whose Upsert does work of its own in the caller's
// goroutine before it waits for a single writer (the embedded store: encoding, signing,
// cluster candidates): Stage does that work and queues the write; wait waits for it.
type stager interface {
	Stage(ctx context.Context, items []news.Item) (wait func() (news.UpsertResult, error), err error)
}

// upsert stores items, staging them in a parsing slot when the store stages: that
// work then takes turns for the CPUs with the parsers, not with the store's writer.
func (r *Refresher) upsert(ctx context.Context, items []news.Item) (news.UpsertResult, error) {
	st, ok := r.Store.(stager)
	if !ok {
		return r.Store.Upsert(ctx, items)
	}
	var wait func() (news.UpsertResult, error)
	if err := r.parsing(ctx, func() (err error) {
		wait, err = st.Stage(ctx, items)
		return err
	}); err != nil {
		return news.UpsertResult{}, err
	}
	return wait()
}

// slots makes the processing and parsing slots on first use.
func (r *Refresher) slots() {
	r.busyOnce.Do(func() {
		n := r.Processing
		if n <= 0 {
			n = DefaultProcessing
			if q, ok := r.Store.(writeQueue); ok && q.WriteQueue() > 0 {
				n = q.WriteQueue()
			}
		}
		r.busy = make(chan struct{}, n)
		a := r.ReadAhead
		if a <= 0 {
			a = 4 * n
		}
		r.ahead = make(chan struct{}, a)
		c := r.Parsing
		if c <= 0 {
			c = runtime.GOMAXPROCS(0)
		}
		r.cpu = make(chan struct{}, c)
	})
}

// process waits for a processing slot; release gives it back.
func (r *Refresher) process(ctx context.Context) (release func(), err error) {
	r.slots()
	select {
	case r.busy <- struct{}{}:
		return func() { <-r.busy }, nil
	case <-ctx.Done():
		return func() {}, ctx.Err()
	}
}

// offSlot runs f, which waits on other servers (feed candidates, the WordPress API,
// article pages), without the processing slot *release holds, and takes a slot again
// afterwards: a slow or dripping server must not keep the other sources of the poll
// from being processed. f gets a context that ends when what is left of the refresh's
// budget for such requests runs out (linkedBudget; only the time spent in f counts, not
// a wait for a slot), so that a page whose linked URLs each drip until the fetch timeout
// cannot keep its own refresh going for minutes either. With release nil (Preview, which takes no slot) it just runs f. The error is
// ctx's when ctx ends before a slot is free again.
func (r *Refresher) offSlot(ctx context.Context, release *func(), res *Result, f func(ctx context.Context)) error {
	if !res.linkedSet {
		res.linkedLeft, res.linkedSet = r.linkedBudget(), true
	}
	run := func() {
		lctx, cancel := context.WithTimeout(ctx, max(res.linkedLeft, 0))
		defer cancel()
		start := time.Now()
		f(lctx)
		res.linkedLeft -= time.Since(start) // only the time spent on them counts
	}
	if release == nil {
		run()
		return nil
	}
	(*release)()
	*release = func() {}
	run()
	rel, err := r.process(ctx)
	if err != nil {
		return err
	}
	*release = rel
	return nil
}

// linkedGet fetches a linked URL for a refresh that holds no processing slot (offSlot)
// and hands the answer to use: the body is read only with a read-ahead slot, and use
// runs in a parsing slot, so that such refreshes, however many, hold no more bodies
// and take no more CPUs than the ones processing. The body's bytes count in res.Bytes.
func (r *Refresher) linkedGet(ctx context.Context, res *Result, req fetch.Request, use func(*fetch.Response)) error {
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded // the budget is spent (ctx may not say so yet)
	}
	ahead := r.aheadSlot()
	req.Ready = ahead.take
	defer ahead.give()
	resp, err := r.Fetch.Get(ctx, req)
	if err != nil {
		return err
	}
	res.Bytes += len(resp.Body)
	return r.parsing(ctx, func() error { use(resp); return nil })
}

// aheadSlot is one fetch's claim on a read-ahead slot: taken (take, as the fetch's
// fetch.Request.Ready) once its answer's headers are in, given back (give) once its
// body has been dealt with. Both may be called more than once.
type aheadSlot struct {
	r    *Refresher
	held bool
}

func (r *Refresher) aheadSlot() *aheadSlot {
	r.slots()
	return &aheadSlot{r: r}
}

func (a *aheadSlot) take(ctx context.Context) error {
	if a.held {
		return nil // called again (a fetcher that retries): the slot is held
	}
	select {
	case a.r.ahead <- struct{}{}:
		a.held = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *aheadSlot) give() {
	if a.held {
		a.held = false
		<-a.r.ahead
	}
}

// writeGrace bounds how long a store write begun before a shutdown may go on after it.
const writeGrace = 30 * time.Second

// finishing is the context of store writes that have begun: ctx's values, not its end,
// and at most writeGrace.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeGrace)
}

// linkedBudget is how long the requests one refresh makes besides its source's own
// (feed discovery, the WordPress API, article pages) may take together: one fetch
// timeout. Past it they fail at once, and the refresh goes on with what it has.
func (r *Refresher) linkedBudget() time.Duration {
	if cfg := r.Config(); cfg != nil && cfg.Fetch.Timeout > 0 {
		return cfg.Fetch.Timeout.D()
	}
	return config.DefaultTimeout
}

// parsing runs f in one of the Parsing slots and returns its error, or ctx's when ctx
// is done before a slot is free (f is then not run).
func (r *Refresher) parsing(ctx context.Context, f func() error) error {
	r.slots()
	select {
	case r.cpu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.cpu }()
	return f()
}

// Errors a refresh can end with, besides fetch errors.
var (
	ErrNoItems     = errors.New("no items found on the page")
	ErrNoFeedFound = errors.New("no feed and no news list found on the homepage")
	// ErrRetryAfter: the source was not fetched, its server having asked (Retry-After on
	// a 429 or 503) not to be polled again yet.
	ErrRetryAfter = errors.New("not polled: the site asked to be polled again later (Retry-After)")
)

// Refresh fetches, parses, cleans, keys and stores one source, then records its state.
// A failure is recorded in the source's state and returned in Result.Err; it never
// leaves half an item behind (each item is written whole, and a write begun is let
// finish when the poll is shut down).
func (r *Refresher) Refresh(ctx context.Context, j Job) Result {
	start := r.Now()
	res := Result{URL: j.URL(), Member: j.Member.ID}
	log := r.Log.With("member", j.Member.ID, "source", j.URL())
	st, err := r.Store.Source(ctx, j.URL())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		res.Err = fmt.Errorf("read source state: %w", err)
		return res
	}
	before := st
	if errors.Is(err, store.ErrNotFound) || st.LeftBy(j.Member.ID) {
		// A state another member left (the source moved, or its member's id changed: one
		// member removed and one added) is none of this one's: its validators would make
		// this first poll a 304 that stores nothing under this member. Its changes are
		// told as a new source's.
		if err == nil {
			before = news.SourceState{}
		}
		st = news.SourceState{URL: j.URL(), Health: news.HealthUnknown}
	}
	st.Member, st.Kind = j.Member.ID, j.Source.Kind()
	firstPoll := st.Polls == 0

	release := func() {}
	defer func() { release() }()
	items, code, err := r.collect(ctx, j, &st, &res, &release)
	if errors.Is(err, fetch.ErrNotModified) {
		err, code, res.NotMod = nil, 304, true
	}
	var published []time.Time
	if err == nil && len(items) > 0 {
		res.Found = len(items)
		err = r.parsing(ctx, func() error {
			items = r.prepare(j, items, res.base, start, firstPoll)
			return nil
		})
	}
	if err == nil && res.Found > 0 {
		res.Duplicate = res.Found - len(items)
		if cfg := r.Config(); cfg != nil {
			if maxAge := cfg.Retention.MaxAge.D(); maxAge > 0 {
				items = dropOlder(items, start.Add(-maxAge))
			}
			items = capItems(items, cfg.Retention.MaxItemsPerSource)
		}
		published = datesOf(items)
		var stored map[string]news.Item
		if stored, err = r.recognise(ctx, j.Member.ID, items); err == nil {
			res.unrecorded, res.unrecordedSeen = unrecordedItems(stored, j.URL(), before.LastSuccess)
			if (res.Via == viaSelectors || strings.HasPrefix(res.Via, viaDetected)) &&
				slices.ContainsFunc(items, func(it news.Item) bool { return needsEnrich(&it, stored) }) {
				err = r.offSlot(ctx, &release, &res, func(ctx context.Context) { r.enrich(ctx, &res, j, items, stored) })
			}
		}
		if err == nil {
			// Items the store holds unchanged are not written again: a changed feed
			// usually brings one new item and the rest as they were.
			var unchanged int
			items, unchanged, res.newestDated = dropUnchanged(items, stored)
			var ur news.UpsertResult
			if len(items) > 0 {
				// A write begun is let finish, shutdown or not (up to writeGrace): a store
				// that writes a batch in steps (Redis: each item whole) would otherwise
				// keep part of a source's new items without the source's state. A
				// shutdown abandons a refresh before its write instead.
				if err = ctx.Err(); err == nil {
					wctx, cancel := finishing(ctx)
					ur, err = r.upsert(wctx, items)
					cancel()
				}
			}
			res.New, res.Updated, res.Unchanged = ur.New, ur.Updated, ur.Unchanged+unchanged
			if err != nil {
				err = fmt.Errorf("store items: %w", err)
			} else if len(items) > 0 && r.unsaved.Swap(false) {
				log.Info("the store saves items again")
			}
		}
	}
	// Retention runs when items were added, and every 16th poll for age alone: a 304
	// round then costs one write per source instead of two. A trim that failed (a disk
	// that filled after the items' write) is done at the next poll: waiting for the next
	// new item or 16th poll left the items beyond the cap listed for days.
	_, owed := r.trimOwed.Load(j.URL())
	if err == nil && (res.New > 0 || st.Polls%16 == 0 || owed) {
		if cfg := r.Config(); cfg != nil && (cfg.Retention.MaxItemsPerSource > 0 || cfg.Retention.MaxAge > 0) {
			tctx, cancel := finishing(ctx) // a write may have begun at a shutdown
			_, terr := r.Store.Trim(tctx, j.URL(), cfg.Retention.MaxItemsPerSource, cfg.Retention.MaxAge.D(), start)
			cancel()
			if terr != nil {
				r.trimOwed.Store(j.URL(), true)
				log.Warn("retention trim failed", "err", terr)
			} else if owed {
				r.trimOwed.Delete(j.URL())
			}
		}
	}
	release()
	release = func() {}
	if err != nil && !errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled) {
		// Abandoned midway (a shutdown past its grace, a lease lost to another process):
		// a step cut short may read as the source's failure (a feed probe that ended
		// reads as "no feed", and the page as no longer matching), which would be
		// recorded over the state of the process polling it now, counted and alerted on.
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	res.Err = err
	res.Duration = r.Now().Sub(start)
	switch {
	case errors.Is(err, context.Canceled):
		return res // shutting down: record nothing half-done
	case errors.Is(err, store.ErrUnavailable):
		// The store's failure, not the source's: recording it would count a failure,
		// back the source off and alert about it (and the state may not be writable).
		// The scheduler pauses and polls the source again once the store answers.
		log.Warn("store unavailable: source not recorded", "err", err)
		return res
	case errors.Is(err, store.ErrWrite):
		// The store's failure too, but one that lasts (a full disk, Redis out of memory):
		// recorded, as the store's (see record), so that the dashboard shows why the
		// source's items are missing, its health not changing. Logged once until the
		// store saves again: with a full disk every source's every poll fails so.
		if !r.unsaved.Swap(true) {
			log.Error("the store could not save the source's items", "err", err,
				"note", "logged once until the store saves again; /sources shows each source")
		} else {
			log.Debug("the store could not save the source's items", "err", err)
		}
	}
	if err != nil {
		// A failed refresh keeps the validators it started with: those of an answer it
		// could not use (a feed that does not parse, items the store refused) would make
		// the next request conditional on it, and its 304 a success that stores nothing.
		st.ETag, st.LastModified = "", ""
		if st.FeedURL == before.FeedURL {
			st.ETag, st.LastModified = before.ETag, before.LastModified
		}
	}
	r.record(j, &st, res, code, start, published)
	res.Health, res.NextPoll, res.RetryAfter, res.Redirect = st.Health, st.NextPoll, st.RetryAfter, st.Redirect
	res.recorded = st
	if perr := r.Store.PutSource(context.WithoutCancel(ctx), st); perr != nil {
		// Apart from Err, which is the poll's own outcome (its items may be stored, and
		// a hub is to hear of them): `poll` must still say that the run did not record
		// what it found (a disk that filled after the items' write).
		res.StateErr = fmt.Errorf("record source state: %w", perr)
		log.Error("record source state", "err", perr)
	}
	logChange(log, before, st, res)
	if r.Observe != nil {
		r.Observe(before, st, res)
	}
	return res
}

// rxWarningCount is the item count of a warning's page (page.Miss.String: "… of 12 items").
var rxWarningCount = regexp.MustCompile(` of \d+ items\b`)

// WarningKey is what a source's warning (news.SourceState.Warning) says, without the
// item count of its page: the same fields missing on a page of one more item is the
// same warning, or a page that keeps its older news would repeat it at each new item.
func WarningKey(w string) string { return rxWarningCount.ReplaceAllString(w, "") }

// logChange logs a source's health changes (a failure, a disable, a recovery) and
// keeps every routine poll at debug level, so logs stay quiet when all is well.
func logChange(log *slog.Logger, before, after news.SourceState, res Result) {
	// A move and a warning ask the operator to edit feeds.yaml: said once, when they
	// first show (they were only on the dashboard and in poll's output).
	if after.Redirect != "" && after.Redirect != before.Redirect {
		log.Warn("source moved permanently: update feeds.yaml", "to", after.Redirect)
	}
	if after.Warning != "" && WarningKey(after.Warning) != WarningKey(before.Warning) {
		log.Warn("source selectors partly match", "warning", after.Warning)
	}
	switch {
	case after.Health == news.HealthDisabled && before.Health != news.HealthDisabled:
		log.Warn("source disabled", "kind", after.ErrorKind, "reason", after.Error, "err", res.Err)
	case after.Health == news.HealthFailing && before.Health != news.HealthFailing:
		log.Warn("source failing", "kind", after.ErrorKind, "reason", after.Error, "next_poll", after.NextPoll, "err", res.Err)
	case after.Health == news.HealthOK && (before.Health == news.HealthFailing || before.Health == news.HealthDisabled):
		log.Info("source recovered", "failures", before.Failures, "new", res.New)
	default:
		log.Debug("polled", "new", res.New, "updated", res.Updated, "not_modified", res.NotMod,
			"duration", res.Duration, "next_poll", after.NextPoll, "err", res.Err)
	}
}

// capItems keeps the newest n items of one poll (0: no cap): retention would trim
// the rest at once, so a feed of 100,000 items costs no more to store than its newest.
func capItems(items []news.Item, n int) []news.Item {
	if n <= 0 || len(items) <= n {
		return items
	}
	slices.SortStableFunc(items, func(a, b news.Item) int { return b.Published.Compare(a.Published) })
	clear(items[n:])
	return items[:n]
}

// dropOlder leaves out the items dated before cutoff: retention would trim them in the
// same refresh, so storing them would only cost writes, count them as new and leave a
// tombstone for each (a page's archive of years is thousands).
func dropOlder(items []news.Item, cutoff time.Time) []news.Item {
	return slices.DeleteFunc(items, func(it news.Item) bool { return it.SortTime().Before(cutoff) })
}

// datesOf returns the publication times the source itself gave its items.
func datesOf(items []news.Item) []time.Time {
	var out []time.Time
	for _, it := range items {
		if it.Precision != news.PrecisionNone && !it.Published.IsZero() {
			out = append(out, it.Published)
		}
	}
	return out
}

// collect fetches the source and turns it into raw items. When release is not nil, a
// processing slot is taken once the source has answered (and *release set to give it
// back); its answer is read only when one of the ReadAhead slots is free.
//
// A page read through the feed it advertised (st.FeedURL) goes back to the page when
// that feed is gone (404, 410) or no longer a feed (a redesign that sends the old
// address to the homepage): the page is read again at once, for the feed it now
// advertises or its own items.
func (r *Refresher) collect(ctx context.Context, j Job, st *news.SourceState, res *Result, release *func()) ([]news.Item, int, error) {
	discovered := st.FeedURL != ""
	items, code, err := r.collectOnce(ctx, j, st, res, release)
	if err == nil || !discovered || st.FeedURL != "" || ctx.Err() != nil {
		return items, code, err
	}
	if release != nil {
		(*release)() // taken again once the page has answered
		*release = func() {}
	}
	return r.collectOnce(ctx, j, st, res, release)
}

// collectOnce is collect's one reading of the source (or of the feed it advertised).
func (r *Refresher) collectOnce(ctx context.Context, j Job, st *news.SourceState, res *Result, release *func()) ([]news.Item, int, error) {
	target := j.URL()
	kind := j.Source.Kind()
	if kind != "feed" && j.Source.Select == nil && st.FeedURL != "" {
		target, kind = st.FeedURL, "feed" // discovered earlier
	}
	var ready func(context.Context) error
	var ahead *aheadSlot
	if release != nil {
		ahead = r.aheadSlot()
		ready = ahead.take
		defer ahead.give()
	}
	resp, err := r.get(ctx, target, st, ready)
	if err != nil {
		// A source that answers with an error says whether it still moved on the way (a
		// redirect to an address that is now gone), or no longer does: the dashboard's
		// "update feeds.yaml" note follows it.
		var (
			he *fetch.HTTPStatusError
			nm *fetch.NotModifiedError
		)
		if target == j.URL() && errors.As(err, &he) {
			st.Redirect = he.Redirect
		} else if target == j.URL() && errors.As(err, &nm) {
			st.Redirect = nm.Redirect // a 304 at the address it moved to
		}
		if target != j.URL() && (statusOf(err) == 404 || statusOf(err) == 410) {
			st.FeedURL, st.ETag, st.LastModified = "", "", "" // the discovered feed is gone: back to the page
		}
		return nil, statusOf(err), err
	}
	if release != nil {
		rel, err := r.process(ctx)
		ahead.give() // the body is read; it now waits in a processing slot
		if err != nil {
			return nil, 0, err
		}
		*release = rel
	}
	res.Bytes += len(resp.Body) // after a discovered feed that failed, the page's too
	if resp.PermanentRedirect != "" && target == j.URL() {
		st.Redirect = resp.PermanentRedirect
	} else if target == j.URL() {
		st.Redirect = ""
	}
	opts := r.pageOptions(j)
	switch {
	case kind == "feed" || feed.IsFeed(resp.Body):
		var f *feed.Feed
		err = r.parsing(ctx, func() (err error) {
			f, err = feed.Parse(resp.Body)
			return err
		})
		if err != nil {
			if target != j.URL() && errors.Is(err, feed.ErrNotFeed) {
				st.FeedURL, st.ETag, st.LastModified = "", "", "" // no longer a feed: back to the page
			}
			return nil, resp.StatusCode, err
		}
		res.Via = "feed"
		if target != j.URL() {
			res.Via = "discovered feed " + target
		}
		res.base = resp.URL
		r.feedDates(f, opts)
		return f.Items, resp.StatusCode, nil
	case j.Source.Select != nil:
		res.Via = viaSelectors
		var (
			items  []news.Item
			misses []page.Miss
		)
		err = r.parsing(ctx, func() (err error) {
			items, misses, err = page.ExtractChecked(resp.Body, resp.URL, selectors(j.Source.Select), opts)
			return err
		})
		words := make([]string, len(misses))
		for i, m := range misses {
			words[i] = m.String()
		}
		res.Warning = strings.Join(words, "; ")
		return items, resp.StatusCode, err
	}
	// A page without selectors, or a homepage: prefer a real feed when there is one (the
	// CMS locations are probed on the first poll and then once every 48 polls).
	// Both that and WordPress's REST API below ask other URLs: they wait without the
	// processing slot.
	if candidates := feedCandidates(resp.Body, resp.URL, st.Polls%48 == 0); len(candidates) > 0 {
		var (
			f     *feed.Feed
			fr    *fetch.Response
			found bool
		)
		if err := r.offSlot(ctx, release, res, func(ctx context.Context) { f, fr, found = r.findFeed(ctx, res, candidates) }); err != nil {
			return nil, 0, err
		}
		if found {
			st.FeedURL = fr.URL
			st.ETag, st.LastModified = fr.ETag, fr.LastModified
			res.Via = "discovered feed " + fr.URL
			res.base = fr.URL
			r.feedDates(f, opts)
			return f.Items, fr.StatusCode, nil
		}
	}
	// WordPress advertises its REST API: its posts are the news, with dates.
	if root := wpAPIRoot(resp.Body, resp.URL); root != "" {
		var (
			items []news.Item
			u     string
			werr  error
		)
		if err := r.offSlot(ctx, release, res, func(ctx context.Context) { items, u, werr = r.wpPosts(ctx, res, root) }); err != nil {
			return nil, 0, err
		}
		if werr == nil && len(items) > 0 {
			res.Via = viaWPAPI + " " + u
			res.base = u
			return items, resp.StatusCode, nil
		}
	}
	var det page.Detection
	err = r.parsing(ctx, func() (err error) {
		det, err = page.Detect(resp.Body, resp.URL, opts)
		return err
	})
	if err != nil {
		if kind == "homepage" && errors.Is(err, page.ErrNoMatch) {
			return nil, resp.StatusCode, ErrNoFeedFound
		}
		return nil, resp.StatusCode, err
	}
	res.Via, res.Inferred = viaDetected+" ("+det.Tier+")", &det.Selectors
	return det.Items, resp.StatusCode, nil
}

// Preview does what Refresh does up to storing: it returns the items a source would
// yield (cleaned, dated and keyed as on a first poll) and how they were found.
func (r *Refresher) Preview(ctx context.Context, j Job) (Result, []news.Item) {
	res := Result{URL: j.URL(), Member: j.Member.ID}
	st := news.SourceState{URL: j.URL()}
	items, _, err := r.collect(ctx, j, &st, &res, nil)
	if err != nil {
		res.Err = err
		return res, nil
	}
	items = r.prepare(j, items, res.base, r.Now(), true)
	res.Found = len(items)
	return res, items
}

func (r *Refresher) get(ctx context.Context, u string, st *news.SourceState, ready func(context.Context) error) (*fetch.Response, error) {
	resp, err := r.Fetch.Get(ctx, fetch.Request{URL: u, ETag: st.ETag, LastModified: st.LastModified, Ready: ready})
	if err != nil {
		return nil, err
	}
	st.ETag, st.LastModified = resp.ETag, resp.LastModified
	return resp, nil
}

func selectors(s *config.Selectors) page.Selectors {
	return page.Selectors{Item: s.Item, Title: s.Title, Link: s.Link, Date: s.Date, Summary: s.Summary, Image: s.Image}
}

// feedDates settles a feed's dates in the member's zone and languages, as a page's are.
func (r *Refresher) feedDates(f *feed.Feed, opts page.Options) {
	f.DatesIn(opts.Location, func(raw string) (time.Time, news.Precision, bool) { return page.ParseDate(raw, opts) })
}

func (r *Refresher) pageOptions(j Job) page.Options {
	return page.Options{Languages: j.Member.Languages, Country: j.Member.Country, Now: r.Now(), Location: j.Member.Location(j.Source)}
}

// BacklogAge is how far below "now" undated items found on a source's first poll are placed.
const BacklogAge = 7 * 24 * time.Hour

// prepare fills member fields, cleans, dates and keys the items of one poll.
//
// Ordering of undated items: an undated item seen on a later poll is new news and is
// ordered at the time first seen. Undated items found on a source's FIRST poll are its
// backlog: they are ordered just below the source's oldest dated item of that poll, or,
// when the page has no dates at all, BacklogAge before now; page order is kept (one
// minute apart), so a new member's archive never pushes the network's real news down.
// Relative links resolve against base (the document the items came from: a feed or a
// discovered feed), else against the source's URL.
func (r *Refresher) prepare(j Job, items []news.Item, base string, now time.Time, firstPoll bool) []news.Item {
	if base == "" {
		base = j.URL()
	}
	b, _ := url.Parse(base)
	fallback := "en"
	if len(j.Member.Languages) > 0 {
		fallback = j.Member.Languages[0]
	}
	var oldestDated time.Time
	for i := range items {
		it := &items[i]
		it.Member, it.Country, it.Region = j.Member.ID, j.Member.Country, j.Member.Region
		it.Source = j.URL()
		r.Clean.Item(it, b, fallback)
		it.FirstSeen = now
		if it.Precision == news.PrecisionNone || it.Published.IsZero() {
			it.Precision = news.PrecisionNone
			it.Published = time.Time{}
		} else {
			if it.Published.After(now) {
				it.Published = now // a date in the future is clamped to the time first seen
			}
			if oldestDated.IsZero() || it.Published.Before(oldestDated) {
				oldestDated = it.Published
			}
		}
		if it.Updated.IsZero() || it.Updated.After(now) {
			it.Updated = it.Published
		}
	}
	anchor := now
	if firstPoll {
		anchor = now.Add(-BacklogAge)
		if !oldestDated.IsZero() {
			anchor = oldestDated
		}
	}
	for i := range items {
		it := &items[i]
		if it.Precision == news.PrecisionNone {
			if firstPoll {
				it.Published = anchor.Add(-time.Duration(i+1) * time.Minute)
			} else {
				it.Published = now.Add(-time.Duration(i) * time.Millisecond) // keep page order
			}
			if it.Updated.IsZero() {
				it.Updated = it.Published
			}
		}
	}
	return identity.Assign(items, j.Member.ID)
}

// recognise is the flood guard: an item whose key is new but whose canonical link or key
// matches an item already stored for the member (a GUID change, http→https, a redesign)
// takes the stored item's ID and key, so it updates that item instead of adding a copy.
// Items that share their link with another of the poll (identity.Assign keys them by
// link and title) take a stored item of that link only when its title is theirs:
// the one stored under the link alone, before another item came with the same link,
// stays itself; and so does one stored as sharing its link, when a later poll lists a
// single item with that link. It returns the stored items matched, by ID.
//
// Items an earlier version stored may be keyed and indexed by its canonical form of
// their link (identity.EarlierCanonical: a Joomla article link with its menu entry):
// they are looked up under that form too, and found under this version's forms of
// their keys and links (store.Merge then rewrites them so). An item stored under
// neither that retention removed under the ID such a version gave it has that
// tombstone carried to its ID of now (Store.CarryTombstones), so that it stays out.
func (r *Refresher) recognise(ctx context.Context, member string, items []news.Item) (map[string]news.Item, error) {
	keys := make([]string, 0, 2*len(items))
	perLink := map[string]int{}
	var earlier []string // by item: its canonical link in an earlier version's form, if another
	for i, it := range items {
		keys = append(keys, it.Key)
		if it.Canonical != "" {
			keys = append(keys, it.Canonical)
			if perLink[it.Canonical]++; perLink[it.Canonical] == 2 {
				keys = append(keys, "url:"+it.Canonical)
			}
			if e := identity.EarlierCanonical(it.Link); e != "" {
				if earlier == nil {
					earlier = make([]string, len(items))
				}
				earlier[i] = e
				keys = append(keys, e, "url:"+e)
				if k := identity.KeyWithLink(it.Key, it.Canonical, e); k != "" && k != "url:"+e {
					keys = append(keys, k)
				}
			}
		}
	}
	// earlierKey is what an earlier version keyed items[i] by with key, or "".
	earlierKey := func(i int, key string) string {
		if earlier == nil || earlier[i] == "" {
			return ""
		}
		return identity.KeyWithLink(key, items[i].Canonical, earlier[i])
	}
	// unstored keeps out an item matched by no stored item whose ID of an earlier
	// version retention removed: that tombstone is carried to its ID of now.
	unstored := func(used map[string]news.Item) error {
		ids := map[string]string{}
		for i := range earlier {
			it := &items[i]
			if _, ok := used[it.ID]; ok {
				continue
			}
			if k := earlierKey(i, it.Key); k != "" {
				ids[identity.ID(member, k)] = it.ID
			}
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := r.Store.CarryTombstones(ctx, ids); err != nil {
			return fmt.Errorf("look up removed items: %w", err)
		}
		return nil
	}
	stored, err := r.Store.ItemsByKey(ctx, member, keys)
	if err != nil {
		return nil, fmt.Errorf("look up stored items: %w", err)
	}
	if len(stored) == 0 {
		return nil, unstored(nil)
	}
	byKey := map[string]news.Item{}
	byLink := map[string][]news.Item{}
	add := func(stored []news.Item) {
		for _, s := range stored {
			byKey[s.Key] = s
			link := s.Canonical
			if link == "" {
				link = s.Link
			}
			if link != "" {
				byLink[link] = append(byLink[link], s)
			}
			// Stored by an earlier version: found under this version's forms too.
			if k := identity.CurrentKey(s.Key); k != s.Key {
				if _, ok := byKey[k]; !ok {
					byKey[k] = s
				}
			}
			if c := identity.Recanonical(link); c != link {
				byLink[c] = append(byLink[c], s)
			}
		}
	}
	add(stored)
	// An item keyed by its link alone (identity.Key) may have been stored while other
	// items shared that link, under its link and title (identity.SharedLinkKeyOf): when
	// the stored item of its key, or those of its link, have another title, it is looked
	// up under that key too, which then names it.
	alt := map[int]string{}
	for i := range items {
		it := &items[i]
		if it.Canonical == "" || it.Key != "url:"+it.Canonical {
			continue
		}
		otherTitle := func(s *news.Item) bool { return s.Title != it.Title && !identity.SameTitle(s.Title, it.Title) }
		other := false
		if s, ok := byKey[it.Key]; ok {
			other = otherTitle(&s)
		} else {
			other = slices.ContainsFunc(byLink[it.Canonical], func(s news.Item) bool { return otherTitle(&s) })
		}
		if other {
			alt[i] = identity.SharedLinkKeyOf(*it)
		}
	}
	if len(alt) > 0 {
		look := make([]string, 0, len(alt))
		for i, k := range alt {
			look = append(look, k)
			if e := earlierKey(i, k); e != "" {
				look = append(look, e)
			}
		}
		found, err := r.Store.ItemsByKey(ctx, member, look)
		if err != nil {
			return nil, fmt.Errorf("look up stored items: %w", err)
		}
		add(found)
	}
	used := map[string]news.Item{}
	for i := range items {
		it := &items[i]
		if k, ok := alt[i]; ok {
			if _, found := byKey[k]; found {
				it.Key = k
			}
		}
		if s, ok := byKey[it.Key]; ok {
			it.ID = s.ID
			used[s.ID] = s
		}
	}
	for i := range items {
		it := &items[i]
		if _, ok := used[it.ID]; ok || it.Canonical == "" {
			continue
		}
		for _, s := range byLink[it.Canonical] {
			// The link alone names a stored item only when neither it nor this item shares it.
			byLinkAlone := perLink[it.Canonical] == 1 && !identity.SharedLinkKey(s.Key)
			if _, taken := used[s.ID]; !taken && (byLinkAlone || identity.SameTitle(s.Title, it.Title)) {
				it.ID, it.Key = s.ID, s.Key
				used[s.ID] = s
				break
			}
		}
	}
	if err := unstored(used); err != nil {
		return nil, err
	}
	return used, nil
}

// dropUnchanged leaves out the items whose stored copy (in stored, by ID) store.Merge
// would leave as it is, and counts them. It also gives the newest date of the dated
// items as the store keeps them: Merge keeps a stored item's date when the source now
// dates it after it was first seen (a feed that dates every item when it is generated,
// an event's date clamped to the poll), so the dates the poll saw can be later.
func dropUnchanged(items []news.Item, stored map[string]news.Item) ([]news.Item, int, time.Time) {
	var newest time.Time
	dated := func(it *news.Item) {
		if it.Dated() && it.Published.After(newest) {
			newest = it.Published
		}
	}
	out := items[:0]
	n := 0
	for i := range items {
		it := &items[i]
		if s, ok := stored[it.ID]; ok {
			m, changed := store.Merge(s, *it)
			dated(&m)
			if !changed {
				n++
				continue
			}
		} else {
			dated(it)
		}
		out = append(out, *it)
	}
	return out, n, newest
}

// unrecordedItems counts the stored items of source (among stored, the items of a
// poll that the store already held) first seen after the source's last recorded
// success, and gives the newest one's first sighting: a refresh that wrote them did
// not record itself (the process was killed between its item write and its state
// write, the store failed after some items, or the refresh failed after writing).
// They come back unchanged, never new, so without this the source's Items and
// LastNewItem would leave them out for good.
func unrecordedItems(stored map[string]news.Item, source string, lastSuccess time.Time) (n int, newest time.Time) {
	for _, s := range stored {
		if s.Source == source && s.FirstSeen.After(lastSuccess) {
			n++
			if s.FirstSeen.After(newest) {
				newest = s.FirstSeen
			}
		}
	}
	return n, newest
}

// Scheduling constants.
const (
	// GoneAfter404s is how many 404 answers in a row disable a source (a 410 disables at once).
	GoneAfter404s = 3
	// DisabledRecheck is how often a source disabled by 410 or repeated 404 is checked
	// again; one success re-enables it.
	DisabledRecheck = 24 * time.Hour
	// maxBackoff bounds the wait after failures, unless a healthy poll of the source
	// waits longer (see Backoff).
	maxBackoff = 24 * time.Hour
)

// bounds gives a source's interval before any learning (its own, or fetch.interval) and
// the bounds of the wait after a healthy poll of it: [min_interval, max_interval] for a
// source without its own interval; for one with its own, at most that interval, and no
// less than min_interval unless the interval itself is shorter.
func bounds(cfg *config.Config, j Job) (interval, lo, hi time.Duration) {
	f := cfg.Fetch
	if iv := j.Source.Interval.D(); iv > 0 {
		return iv, min(f.MinInterval.D(), iv), iv
	}
	return f.Interval.D(), f.MinInterval.D(), f.MaxInterval.D()
}

// latestNextPoll is the latest the poll after st's last one may be under cfg: a next poll
// recorded under an earlier config (a longer interval or max_interval, or a backoff from
// one) waits no longer than cfg would have had it wait after that poll. A Retry-After
// holds, as does cfg's backoff and the daily check of a source the poller disabled. Zero
// for a source never polled.
func latestNextPoll(cfg *config.Config, j Job, st news.SourceState) time.Time {
	if st.LastPoll.IsZero() {
		return time.Time{}
	}
	interval, _, hi := bounds(cfg, j)
	wait := hi // what a healthy poll waits at most (jitter)
	if st.Failures > 0 {
		wait = Backoff(interval, hi, st.Failures)
		if st.Health == news.HealthDisabled {
			wait = max(DisabledRecheck, wait)
		}
	}
	latest := st.LastPoll.Add(wait)
	if st.RetryAfter.After(latest) {
		latest = st.RetryAfter
	}
	return latest
}

// record updates the source's state after a refresh. published holds the dates of
// the items this poll saw (empty on a 304), from which the interval is learned.
func (r *Refresher) record(j Job, st *news.SourceState, res Result, code int, start time.Time, published []time.Time) {
	cfg := r.Config()
	prev := *st
	st.LastPoll = start
	st.Polls++
	st.HTTPCode = code
	interval, lo, hi := bounds(cfg, j)
	rec := news.PollRecord{At: start, Duration: res.Duration, HTTPCode: code, New: res.New, Updated: res.Updated}
	switch {
	case res.Err == nil:
		st.LastSuccess = start
		st.Failures = 0
		st.Error, st.ErrorKind = "", ""
		if !res.NotMod {
			st.Warning = res.Warning // an unchanged page (304) still has what it had
		}
		st.RetryAfter = time.Time{}
		st.Health = news.HealthOK
		if res.New > 0 {
			st.LastNewItem = start
		} else if res.unrecorded > 0 && res.unrecordedSeen.After(st.LastNewItem) {
			st.LastNewItem = res.unrecordedSeen
		}
		if res.newestDated.After(st.NewestDated) {
			st.NewestDated = res.newestDated
		}
		st.Items += res.New + res.unrecorded
		if res.NotMod {
			rec.HTTPCode = 304
		}
		if j.Source.Interval <= 0 {
			interval = Adapt(j.URL(), prev, published, res.New, start, interval, lo, hi)
		}
		st.NextPoll = start.Add(jitter(j.URL(), interval, lo, hi))
	case errors.Is(res.Err, store.ErrWrite):
		// The source answered and its items were read, but the store could not save them:
		// no failure of the source's. Its health, failure count and last success stay as
		// they were (its backoff with them), the error shown is the store's, and it is
		// polled again after min_interval, its validators kept (see Refresh) for its items
		// to come again: not at once, as for an unreachable store (whose lease claim
		// fails before any fetch), since a full disk lasts until someone frees space and
		// every source of the network would be fetched every few seconds meanwhile.
		st.ErrorKind, st.Error = Describe(res.Err)
		rec.Error = st.Error
		wait := lo
		if wait <= 0 {
			wait = interval
		}
		st.NextPoll = start.Add(wait)
	default:
		st.Failures++
		st.ErrorKind, st.Error = Describe(res.Err)
		st.Health = news.HealthFailing
		rec.Error = st.Error
		st.NextPoll = start.Add(Backoff(interval, hi, st.Failures))
		// The source's answer or its site's robots.txt may have asked for a wait.
		if ra := fetch.RetryAfter(res.Err); ra > 0 {
			// From the answer, which came at the refresh's end (a failed refresh
			// parses nothing): an overloaded server may take long to answer.
			st.RetryAfter = start.Add(res.Duration + ra)
			if st.RetryAfter.After(st.NextPoll) {
				st.NextPoll = st.RetryAfter
			}
		}
		var he *fetch.HTTPStatusError
		if errors.As(res.Err, &he) {
			if reason := goneReason(he.Code, prev.History); reason != "" {
				st.Health = news.HealthDisabled
				st.Error += "; " + reason
				rec.Error = st.Error
				st.NextPoll = start.Add(max(DisabledRecheck, st.NextPoll.Sub(start)))
			}
		}
	}
	if j.Source.Disabled || j.Member.Disabled {
		st.Health = news.HealthDisabled
	}
	st.History = append([]news.PollRecord{rec}, st.History...)
	if len(st.History) > news.MaxHistory {
		st.History = st.History[:news.MaxHistory]
	}
}

// goneReason says why a source answering code is disabled, or "" when it is not:
// 410 Gone at once, 404 when the previous GoneAfter404s-1 polls got 404 too.
func goneReason(code int, history []news.PollRecord) string {
	const fix = "polling stopped: correct or remove this source in feeds.yaml (it is checked again daily, or at its interval when longer; " +
		"one good answer, or a successful `networkfeed poll`, re-enables it)"
	switch code {
	case 410:
		return "the site says the feed is gone for good; " + fix
	case 404:
		n := 1
		for _, h := range history {
			if h.HTTPCode != 404 {
				break
			}
			n++
		}
		if n >= GoneAfter404s {
			return fmt.Sprintf("not found %d times in a row; %s", n, fix)
		}
	}
	return ""
}

// Backoff is the wait after the n-th failure in a row: the interval doubled per failure
// (from the second), at most 24 hours, or longest (the longest a healthy poll of the
// source waits: its own interval, or max_interval) when that is longer, so that the limit
// never has a failing source polled more often than a healthy one; a failing source is
// never given up on.
func Backoff(interval, longest time.Duration, n int) time.Duration {
	limit := max(maxBackoff, longest)
	d := interval
	for i := 1; i < n && d < limit; i++ {
		if d > limit/2 {
			return limit // doubled it would pass the limit, or overflow (intervals of years)
		}
		d *= 2
	}
	return min(d, limit)
}

// Adapt learns a source's polling interval from how often it really publishes: half
// the median gap between the dates of the items just seen (between distinct dates,
// divided by how many items a date has on average), or the time since the
// newest one when that is longer (a quiet source is polled less), clamped to
// [minI, maxI]. With fewer than three distinct dates (a 304, an undated page) it keeps
// the interval the previous successful poll chose, stretched to half the time since
// new items were last seen; when the poll found fresh new items, they came about every
// (time since new items were last seen) / fresh, and it takes half that: an undated
// page that starts publishing more often is polled more often again. def on a first
// poll or after failures.
func Adapt(u string, prev news.SourceState, published []time.Time, fresh int, now time.Time, def, minI, maxI time.Duration) time.Duration {
	clamp := func(d time.Duration) time.Duration {
		if minI > 0 {
			d = max(d, minI)
		}
		if maxI > 0 {
			d = min(d, maxI)
		}
		return d
	}
	// Items sharing a date (a feed that stamps every item with the time it was made, a
	// page dated by the day) say how often they come only through the dates between
	// them: the gaps are those between distinct dates, shortened by how many items share
	// each (three items a day: one every eight hours). A feed whose items all carry one
	// date gave a median gap of 0 and was polled every min_interval for good; with fewer
	// than three distinct dates, the dates are not used.
	ts := slices.Clone(published)
	slices.SortFunc(ts, func(a, b time.Time) int { return b.Compare(a) })
	ts = slices.CompactFunc(ts, time.Time.Equal)
	if len(ts) >= 3 {
		gaps := make([]time.Duration, 0, len(ts)-1)
		for i := 1; i < len(ts); i++ {
			gaps = append(gaps, ts[i-1].Sub(ts[i]))
		}
		slices.Sort(gaps)
		// gap*distinct/total, divided first: a median gap of a century (a source listing
		// items that far apart, retention.max_age allowing) times three overflows.
		gap, distinct, total := gaps[len(gaps)/2], time.Duration(len(ts)), time.Duration(len(published))
		gap = gap/total*distinct + gap%total*distinct/total
		if quiet := now.Sub(ts[0]); quiet > gap {
			gap = quiet
		}
		return clamp(gap / 2)
	}
	if prev.Polls > 0 && prev.Failures == 0 && prev.RetryAfter.IsZero() && prev.NextPoll.After(prev.LastPoll) {
		d := unjitter(u, prev.NextPoll.Sub(prev.LastPoll))
		if since := now.Sub(prev.LastNewItem); !prev.LastNewItem.IsZero() && since > 0 {
			if fresh > 0 {
				d = since / time.Duration(fresh) / 2 // new items since: about one every since/fresh
			} else {
				d = max(d, since/2) // quiet since: polled less
			}
		}
		return clamp(d)
	}
	return clamp(def)
}

// jitterFraction is the share of its interval a source's polls are delayed by, decided
// by its URL (0 to 9.99%), so sources of the same interval do not all fall due together.
func jitterFraction(u string) float64 {
	h := fnv.New32a()
	h.Write([]byte(u))
	return float64(h.Sum32()%1000) / 10000
}

// jitter is the wait after a healthy poll for an interval within [lo, hi]: the interval
// plus the source's share of it, never past hi (0: no bound). An interval within a tenth
// of hi counts as hi/1.1, so that the sources that wait as long as hi allows still spread,
// over the tenth below it, instead of all waiting hi.
func jitter(u string, interval, lo, hi time.Duration) time.Duration {
	d := interval
	if hi > 0 {
		d = min(d, time.Duration(float64(hi)/1.1))
	}
	d = max(d, lo)
	d += time.Duration(float64(d) * jitterFraction(u))
	if hi > 0 {
		d = min(d, hi) // when lo is within a tenth of hi
	}
	return d
}

// unjitter recovers the interval jitter was given (an interval within a tenth of hi as
// hi/1.1, which jitter takes it as).
func unjitter(u string, d time.Duration) time.Duration {
	return time.Duration(float64(d)/(1+jitterFraction(u)) + 0.5)
}

// Describe gives an error's kind and plain words for the dashboard.
func Describe(err error) (kind, words string) {
	switch {
	case errors.Is(err, page.ErrNoMatch):
		return "selectors", "selectors no longer match: the page's news list was not found (was the site redesigned?)"
	case errors.Is(err, feed.ErrNotFeed):
		return "not_feed", "the address does not serve a feed (got an HTML page or something else)"
	case errors.Is(err, ErrNoFeedFound):
		return "not_feed", ErrNoFeedFound.Error()
	case errors.Is(err, ErrNoItems):
		return "no_items", ErrNoItems.Error()
	case errors.Is(err, ErrRetryAfter):
		return "retry_after", err.Error()
	case errors.Is(err, store.ErrUnavailable):
		// Before the fetch errors: a Redis that refuses connections wraps a dial error
		// too, which is not the member's server refusing.
		return "store", "the store is unavailable"
	case errors.Is(err, store.ErrWrite):
		// Before the fetch errors too: a disk's I/O error is not the member's connection.
		var we *store.WriteError
		if errors.As(err, &we) {
			return "store", "the store could not save the items: " + we.Err.Error()
		}
		return "store", "the store could not save the items: " + err.Error()
	}
	kind, words = fetch.Describe(err)
	if kind == "other" {
		return "parse", err.Error()
	}
	return kind, words
}

func statusOf(err error) int {
	var he *fetch.HTTPStatusError
	if errors.As(err, &he) {
		return he.Code
	}
	if errors.Is(err, fetch.ErrNotModified) {
		return 304
	}
	return 0
}
