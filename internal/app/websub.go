package app

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/websub"
)

// hubNotifier pings the configured WebSub hub after a refresh that changed a member's
// items: the network feeds and that member's feeds are the topics. The hub is read from
// the config on every ping, so a reload that sets or changes network.websub_hub applies.
type hubNotifier struct {
	config func() *config.Config
	log    *slog.Logger
	client *http.Client
	wg     sync.WaitGroup
	mu     sync.Mutex
	pinger *websub.Pinger

	// serve's pings (observe) go one batch at a time: the members whose items changed
	// while a batch was in flight are pinged together after it. A goroutine per refresh
	// pinged the network feeds again for every refresh that changed items (a first poll
	// of 1,000 feeds: 1,000 pings of each, and as many fetches of them by the hub), and
	// against a slow hub held 4 connections per refresh (40 loopback feeds and a hub
	// answering in 8 s: 150 file descriptors and 500 goroutines).
	qmu     sync.Mutex
	pending map[string]bool
	pinging bool
	// stop ends the pings in flight when wait has waited waitPings (a hung hub).
	stopCtx context.Context
	stop    context.CancelFunc
}

// waitPings is how long notify's pings may take (poll's, at its end), and how long wait
// lets serve's go on at shutdown.
const waitPings = 30 * time.Second

func newHubNotifier(cfg func() *config.Config, log *slog.Logger) *hubNotifier {
	h := &hubNotifier{config: cfg, log: log, client: &http.Client{Timeout: 10 * time.Second}, pending: map[string]bool{}}
	h.stopCtx, h.stop = context.WithCancel(context.Background())
	return h
}

func (h *hubNotifier) current() (*websub.Pinger, string) {
	cfg := h.config()
	hub := cfg.Network.WebSubHub
	if hub == "" {
		return nil, ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pinger == nil || h.pinger.Hub() != hub {
		h.pinger = websub.NewPinger(hub, h.client, h.log)
	}
	return h.pinger, cfg.Network.URL
}

// observe pings the hub after a refresh that changed its member's items (serve): at once
// when no ping is in flight, else with the next batch (drain).
func (h *hubNotifier) observe(r poll.Result) {
	if !changedItems(r) {
		return
	}
	if p, _ := h.current(); p == nil {
		return
	}
	h.qmu.Lock()
	defer h.qmu.Unlock()
	h.pending[r.Member] = true
	if !h.pinging {
		h.pinging = true
		h.wg.Go(h.drain)
	}
}

// drain pings the hub for the pending members, a batch at a time, until none are left.
func (h *hubNotifier) drain() {
	for {
		h.qmu.Lock()
		members := slices.Sorted(maps.Keys(h.pending))
		clear(h.pending)
		if len(members) == 0 {
			h.pinging = false
			h.qmu.Unlock()
			return
		}
		h.qmu.Unlock()
		// No deadline for the batch but wait's: a batch of many members (a first poll
		// of a large network) takes longer than one refresh's pings, each of which the
		// client's timeout bounds.
		h.ping(h.stopCtx, members)
	}
}

// changedItems reports whether a refresh stored new or updated items: its member's feeds
// (and the network's) changed.
func changedItems(r poll.Result) bool { return r.Err == nil && r.New+r.Updated > 0 }

// notify pings the hub about the feeds of members (and the network's feeds) and waits
// for the pings: `poll` once at the end of its run, so that a run that changed many
// members pings each network feed once (serve: a batch at a time, see drain).
func (h *hubNotifier) notify(members []string) {
	// Not the command's context: a run cut short by SIGINT still tells the hub about
	// the items it stored.
	ctx, cancel := context.WithTimeout(context.Background(), waitPings)
	defer cancel()
	h.ping(ctx, members)
}

// ping pings the hub about the feeds of members (and the network's feeds) until ctx
// ends, each ping within the client's timeout.
func (h *hubNotifier) ping(ctx context.Context, members []string) {
	p, base := h.current()
	if p == nil || len(members) == 0 {
		return
	}
	if err := p.Notify(ctx, websub.Topics(base, members)); err != nil {
		h.log.Warn("websub ping failed", "members", members, "hub", p.Hub(), "err", err)
	}
}

// wait lets pings in flight, and those of the members pending after them, finish (at
// shutdown), for waitPings at most: then it ends them.
func (h *hubNotifier) wait() {
	t := time.AfterFunc(waitPings, h.stop)
	h.wg.Wait()
	t.Stop()
	h.stop()
}
