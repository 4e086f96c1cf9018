package app

import (
	"context"
	"errors"
	"flag"
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

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/metrics"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/web"
)

var nowFunc = time.Now

func runServe(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs, env)
	webOn := fs.Bool("web", true, "serve HTTP (false: a pure polling worker)")
	pollOn := fs.Bool("poll", true, "poll sources on schedule (false: a pure web front)")
	workers := fs.Int("workers", 16, "concurrent refreshes")
	leaseTTL := fs.Duration("lease-ttl", 2*time.Minute, "how long a source's poll lease lives without renewal (a killed process's sources are taken over after it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(stderr, env)
	cfg, err := config.Load(c.config)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, c.store)
	if err != nil {
		return err
	}
	defer st.Close()
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	return serve(ctx, serveOptions{
		log: log, store: st, config: &current, configPath: c.config, addr: c.addr,
		web: *webOn, poll: *pollOn, workers: *workers, leaseTTL: *leaseTTL, stdout: stdout,
	})
}

type serveOptions struct {
	log        *slog.Logger
	store      store.Store
	config     *atomic.Pointer[config.Config]
	configPath string // reloaded on SIGHUP when set
	addr       string
	web, poll  bool
	workers    int
	leaseTTL   time.Duration
	stdout     io.Writer
	// listening, when set, is told the address the server listens on.
	listening func(addr string)
}

// serve runs the scheduler and the HTTP server until ctx ends, then shuts down in order:
// the scheduler stops taking work, in-flight polls drain, the server drains, and the
// caller closes the store.
func serve(ctx context.Context, o serveOptions) error {
	cfgFn := o.config.Load
	fetcher := newFetcher(cfgFn())
	ref := newRefresher(cfgFn, fetcher, o.store, o.log)
	m := metrics.New(o.store)
	ref.Observe = m.Observe
	sched := &poll.Scheduler{Refresher: ref, Store: o.store, Log: o.log, Owner: ownerID(), Workers: o.workers, LeaseTTL: o.leaseTTL,
		Spread: min(30*time.Second, cfgFn().Fetch.Interval.D()/2)}
	sched.SetJobs(poll.Jobs(cfgFn()))

	// SIGHUP: reload the config; an invalid one is logged and the old one kept.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if o.configPath == "" {
					continue
				}
				next, err := config.Load(o.configPath)
				if err != nil {
					o.log.Error("config reload rejected; keeping the old config", "err", err)
					continue
				}
				o.config.Store(next)
				sched.SetJobs(poll.Jobs(next))
				o.log.Info("config reloaded", "members", len(next.Members))
			}
		}
	}()

	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if o.poll {
		wg.Go(func() { sched.Run(pollCtx) })
	}
	var srv *http.Server
	errc := make(chan error, 1)
	if o.web {
		ready := func() bool { return !o.poll || sched.Ready() }
		ws, err := web.New(web.Options{Store: o.store, Config: cfgFn, Log: o.log, Ready: ready, Metrics: m.Handler()})
		if err != nil {
			stopPolling()
			wg.Wait()
			return err
		}
		ln, err := net.Listen("tcp", o.addr)
		if err != nil {
			stopPolling()
			wg.Wait()
			return fmt.Errorf("listen %s: %w", o.addr, err)
		}
		if o.listening != nil {
			o.listening(ln.Addr().String())
		}
		o.log.Info("serving", "addr", ln.Addr().String(), "url", cfgFn().Network.URL)
		srv = &http.Server{Handler: ws.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	o.log.Info("shutting down")
	stopPolling()
	wg.Wait()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			o.log.Warn("http shutdown", "err", err)
		}
	}
	return runErr
}
