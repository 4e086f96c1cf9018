package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/iss-network/networkfeed/internal/alerts"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/metrics"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/web"
)

var nowFunc = time.Now

func runServe(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs, c := newFlags("serve", env)
	webOn := fs.Bool("web", true, "serve HTTP (false: a pure polling worker)")
	pollOn := fs.Bool("poll", true, "poll sources on schedule (false: a pure web front)")
	workers := fs.Int("workers", 16, "concurrent refreshes")
	leaseTTL := fs.Duration("lease-ttl", 2*time.Minute, "how long a source's poll lease lives without renewal (a killed process's sources are taken over after it)")
	metricsAddr := fs.String("metrics-addr", env("NETWORKFEED_METRICS_ADDR"), "also serve /metrics, /healthz and /readyz on this address (e.g. :9090; for -web=false workers; empty: not)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	log := newLogger(stderr, env)
	// SIGHUP is caught before the store opens, which may wait (for the embedded store's
	// lock while the process before this one lets go of it, for Redis): its default
	// action would end the process. A reload asked for meanwhile is done once serving.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg, st, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	return serve(ctx, serveOptions{
		log: log, store: st, config: &current, configPath: c.config, addr: c.addr,
		web: *webOn, poll: *pollOn, workers: *workers, leaseTTL: *leaseTTL, stdout: stdout,
		metricsAddr: *metricsAddr, hup: hup,
	})
}

type serveOptions struct {
	log        *slog.Logger
	store      store.Store
	config     *atomic.Pointer[config.Config]
	configPath string // reloaded on SIGHUP when set
	addr       string
	// metricsAddr, when set, serves the probes (/metrics, /healthz, /readyz) on a
	// listener of their own, whatever web says.
	metricsAddr string
	web, poll   bool
	workers     int
	leaseTTL    time.Duration
	stdout      io.Writer
	// listening, when set, is told the address the server listens on; listeningMetrics
	// the address of the probes' own listener (metricsAddr).
	listening        func(addr string)
	listeningMetrics func(addr string)
	// hup delivers reload requests; nil: SIGHUP.
	hup <-chan os.Signal
	// reloaded, when set, is told the outcome of every reload (tests).
	reloaded func(error)
}

// serve runs the scheduler and the HTTP server until ctx ends, then shuts down in order:
// the scheduler stops taking work, in-flight polls drain, the server drains, and the
// caller closes the store.
func serve(ctx context.Context, o serveOptions) error {
	cfgFn := o.config.Load
	fetcher := &liveFetcher{}
	fetcher.swap(newFetcher(cfgFn()))
	ref := newRefresher(cfgFn, fetcher, o.store, o.log)
	m := metrics.New(o.store, cfgFn)
	al := alerts.New(alerts.Options{Store: o.store, Config: cfgFn, Log: o.log})
	m.AssessWith(al.Health)
	hub := newHubNotifier(cfgFn, o.log)
	var webServer atomic.Pointer[web.Server]
	ref.Observe = func(before, after news.SourceState, r poll.Result) {
		m.Observe(before, after, r)
		al.Observe(before, after, r)
		if w := webServer.Load(); w != nil && r.New+r.Updated > 0 {
			// The web reads the store version at most every VersionTTL: make it read
			// now, so a hub fetching the feed right after the ping gets the new one.
			w.StoreChanged()
		}
		hub.observe(r)
	}
	jobs := poll.Jobs(cfgFn())
	var prog *progress
	// Only a process that polls has progress to show: a pure web front (-poll=false)
	// printed "polled 0/N sources since start" at its shutdown.
	if o.poll && o.stdout != nil && isTerminal(o.stdout) {
		prog = newProgress(o.stdout, len(jobs))
	}
	sched := &poll.Scheduler{Refresher: ref, Store: o.store, Log: o.log, Owner: poll.NewOwner(), Workers: o.workers, LeaseTTL: o.leaseTTL,
		Spread: min(30*time.Second, cfgFn().Fetch.Interval.D()/2)}
	if prog != nil {
		sched.Progress = prog.observe
	}
	sched.SetJobs(jobs)
	if o.poll {
		m.DueWith(sched.Due)
	}

	// SIGHUP: reload the config; an invalid one is logged and the old one kept. Polls in
	// flight go on; the new sources and settings apply from the next due poll.
	hup := o.hup
	if hup == nil {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGHUP)
		defer signal.Stop(c)
		hup = c
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				err := reload(o, sched, prog, fetcher)
				m.ConfigReloaded(err)
				if o.reloaded != nil {
					o.reloaded(err)
				}
			}
		}
	}()

	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if o.poll {
		wg.Go(func() { sched.Run(pollCtx) })
	}
	var servers []*http.Server // the web view and the probes' own listener, when on
	errc := make(chan error, 1)
	fail := func(err error) error {
		stopPolling()
		wg.Wait()
		for _, s := range servers {
			s.Close()
		}
		return err
	}
	ready := func() bool { return !o.poll || sched.Ready() } // /readyz, with the store's ping
	if o.web {
		ws, err := web.New(web.Options{Store: o.store, Config: cfgFn, Log: o.log, Ready: ready, Metrics: m.Handler()})
		if err != nil {
			return fail(err)
		}
		webServer.Store(ws)
		srv, addr, err := startServer(o.addr, ws.Handler(), errc)
		if err != nil {
			return fail(err)
		}
		servers = append(servers, srv)
		if o.listening != nil {
			o.listening(addr)
		}
		o.log.Info("serving", "addr", addr, "url", cfgFn().Network.URL)
	}
	if o.metricsAddr != "" {
		mux := http.NewServeMux()
		web.Probes{Store: o.store, Ready: ready, Metrics: m.Handler()}.Register(mux)
		srv, addr, err := startServer(o.metricsAddr, mux, errc)
		if err != nil {
			return fail(fmt.Errorf("metrics: %w", err))
		}
		servers = append(servers, srv)
		if o.listeningMetrics != nil {
			o.listeningMetrics(addr)
		}
		o.log.Info("serving metrics", "addr", addr)
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	o.log.Info("shutting down")
	stopPolling()
	wg.Wait()
	fetcher.Close()
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	if err := al.Close(actx); err != nil {
		o.log.Warn("alerts: webhook deliveries abandoned at shutdown", "err", err)
	}
	hub.wait()
	if prog != nil {
		prog.stop()
	}
	for _, s := range servers {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := s.Shutdown(sctx)
		cancel()
		if err != nil {
			o.log.Warn("http shutdown", "err", err)
		}
	}
	return runErr
}

// startServer listens on addr and serves h there until shut down, sending a serving error
// to errc (when it has room); it returns the server and the address it listens on.
func startServer(addr string, h http.Handler, errc chan<- error) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case errc <- err:
			default:
			}
		}
	}()
	return srv, ln.Addr().String(), nil
}

// reload reads the config file again and swaps it in when valid; changed fetch
// settings take effect through a new HTTP client.
func reload(o serveOptions, sched *poll.Scheduler, prog *progress, fetcher *liveFetcher) error {
	if o.configPath == "" {
		return nil
	}
	next, err := config.Load(o.configPath)
	if err != nil {
		o.log.Error("config reload rejected; keeping the old config", "err", err)
		return err
	}
	old := o.config.Swap(next)
	if old != nil && fetchOptionsChanged(old.Fetch, next.Fetch) {
		// Before the new jobs, so that a source added by this reload is never fetched
		// with the old settings.
		fetcher.swap(newFetcher(next))
		o.log.Info("fetch settings changed: new requests use them; requests in flight finish with the old ones")
	}
	jobs := poll.Jobs(next)
	sched.SetJobs(jobs)
	if prog != nil {
		prog.setJobs(jobs)
	}
	o.log.Info("config reloaded", "members", len(next.Members), "sources", len(jobs))
	return nil
}

// liveFetcher is serve's HTTP client, replaced when a reload changes the fetch
// settings. A request in flight finishes on the client it started on; the new client
// starts with its own concurrency limits and robots.txt cache, so for as long as old
// requests are in flight a host may see up to twice its per_host limit.
type liveFetcher struct{ c atomic.Pointer[fetch.Client] }

func (f *liveFetcher) Get(ctx context.Context, r fetch.Request) (*fetch.Response, error) {
	return f.c.Load().Get(ctx, r)
}

// swap makes c the client of new requests. The old client's idle connections are
// closed now; those of its requests in flight close when idle (the transport's idle timeout).
func (f *liveFetcher) swap(c *fetch.Client) {
	if old := f.c.Swap(c); old != nil {
		old.Close()
	}
}

// Close closes the current client's idle connections.
func (f *liveFetcher) Close() { f.c.Load().Close() }

func fetchOptionsChanged(a, b config.Fetch) bool {
	robots := func(p *bool) bool { return p == nil || *p }
	return a.Timeout != b.Timeout || a.MaxBody != b.MaxBody || a.PerHost != b.PerHost || a.Concurrency != b.Concurrency ||
		a.UserAgent != b.UserAgent || a.AllowPrivateAddresses != b.AllowPrivateAddresses || robots(a.Robots) != robots(b.Robots)
}

// progress keeps one status line on a terminal: sources polled since start out of the
// configured total, and how many are failing now.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	total int
	// configured holds the sources' URLs after a reload (nil until one: all count).
	configured map[string]bool
	polled     map[string]bool
	failing    map[string]bool
	dirty      bool
	done       chan struct{}
	once       sync.Once
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, polled: map[string]bool{}, failing: map[string]bool{}, done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) observe(r poll.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.configured != nil && !p.configured[r.URL] {
		return // removed by a reload while it was being polled
	}
	if errors.Is(r.Err, store.ErrUnavailable) || errors.Is(r.Err, context.Canceled) {
		return // nothing recorded: the store's failure or a shutdown's, not the source's
	}
	p.polled[r.URL] = true
	p.dirty = true
	if errors.Is(r.Err, store.ErrWrite) {
		return // the store could not save its items: the source's health stays as it was
	}
	if r.Err != nil {
		p.failing[r.URL] = true
	} else {
		delete(p.failing, r.URL)
	}
}

// setJobs is told the sources after a reload: the total becomes theirs, and sources
// no longer configured stop counting as polled or failing.
func (p *progress) setJobs(jobs []poll.Job) {
	keep := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		keep[j.URL()] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.dirty, p.configured = len(jobs), true, keep
	for _, m := range []map[string]bool{p.polled, p.failing} {
		for u := range m {
			if !keep[u] {
				delete(m, u)
			}
		}
	}
}

func (p *progress) line() string {
	return fmt.Sprintf("polled %d/%d sources since start, %d failing", len(p.polled), p.total, len(p.failing))
}

func (p *progress) loop() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.mu.Lock()
			if p.dirty {
				fmt.Fprintf(p.w, "\r\033[K%s", p.line())
				p.dirty = false
			}
			p.mu.Unlock()
		}
	}
}

func (p *progress) stop() {
	p.once.Do(func() {
		close(p.done)
		p.mu.Lock()
		fmt.Fprintf(p.w, "\r\033[K%s\n", p.line())
		p.mu.Unlock()
	})
}
