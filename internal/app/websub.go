package app

import (
	"context"
	"log/slog"
	"net/http"
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
}

func newHubNotifier(cfg func() *config.Config, log *slog.Logger) *hubNotifier {
	return &hubNotifier{config: cfg, log: log, client: &http.Client{Timeout: 10 * time.Second}}
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

func (h *hubNotifier) observe(r poll.Result) {
	if !changedItems(r) {
		return
	}
	if p, _ := h.current(); p == nil {
		return
	}
	h.wg.Go(func() { h.notify([]string{r.Member}) })
}

// changedItems reports whether a refresh stored new or updated items: its member's feeds
// (and the network's) changed.
func changedItems(r poll.Result) bool { return r.Err == nil && r.New+r.Updated > 0 }

// notify pings the hub about the feeds of members (and the network's feeds) and waits
// for the pings: serve after each refresh that changed items (observe), `poll` once at
// the end of its run, so that a run that changed many members pings each network feed
// once.
func (h *hubNotifier) notify(members []string) {
	p, base := h.current()
	if p == nil || len(members) == 0 {
		return
	}
	// Not the command's context: a run cut short by SIGINT still tells the hub about
	// the items it stored.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Notify(ctx, websub.Topics(base, members)); err != nil {
		h.log.Warn("websub ping failed", "members", members, "hub", p.Hub(), "err", err)
	}
}

// wait lets pings in flight finish (at shutdown).
func (h *hubNotifier) wait() { h.wg.Wait() }
