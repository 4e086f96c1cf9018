// Package metrics exposes networkfeed's Prometheus metrics: polls by outcome, poll
// durations, bytes fetched, items new/updated/unchanged/duplicate, sources by health,
// queue lag, and whether the last config reload was taken.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
)

// Sources is what the health gauge reads at scrape time.
type Sources interface {
	SourceStates(ctx context.Context) ([]news.SourceState, error)
}

// Metrics holds one process's registry.
type Metrics struct {
	reg      *prometheus.Registry
	polls    *prometheus.CounterVec
	duration prometheus.Histogram
	bytes    prometheus.Counter
	items    *prometheus.CounterVec
	health   *healthCollector // nil without sources
	reloadOK prometheus.Gauge
	reloadAt prometheus.Gauge
}

// New registers every metric on a fresh registry; sources feeds the health and lag gauges.
// When cfg is set, those gauges count the configured sources only, as the dashboard
// does: a source never polled yet is unknown, one disabled in the config is disabled,
// and states the store keeps for anything else (a source removed from the config, the
// alerts' record) are left out.
func New(sources Sources, cfg func() *config.Config) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.polls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "networkfeed_polls_total", Help: "Source refreshes by outcome (ok, not_modified, or the error kind)."}, []string{"outcome"})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "networkfeed_poll_duration_seconds", Help: "Time one source refresh took, end to end.", Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10)})
	m.bytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "networkfeed_fetched_bytes_total", Help: "Body bytes fetched from member sites by refreshes (after decompression): sources, the feeds they advertise, article pages."})
	m.items = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "networkfeed_items_total", Help: "Items seen by polls: new, updated, unchanged (stored before, same content), or duplicate (a repeat of another item of the same poll, dropped)."}, []string{"result"})
	m.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Name: "networkfeed_config_last_reload_successful", Help: "0 when the last config reload (SIGHUP) was rejected, the process going on with the config before it; 1 otherwise."})
	m.reloadAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "networkfeed_config_last_reload_success_timestamp_seconds", Help: "When the config in use was loaded (at start or by a reload), in Unix seconds."})
	m.reloadOK.Set(1)
	m.reloadAt.SetToCurrentTime()
	m.reg.MustRegister(m.polls, m.duration, m.bytes, m.items, m.reloadOK, m.reloadAt, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The usual labels exist from the start, at 0, so that a rate over them has a start.
	for _, o := range []string{"ok", "not_modified"} {
		m.polls.WithLabelValues(o)
	}
	for _, r := range []string{"new", "updated", "unchanged", "duplicate"} {
		m.items.WithLabelValues(r)
	}
	if sources != nil {
		m.health = &healthCollector{sources: sources, config: cfg,
			health:  prometheus.NewDesc("networkfeed_sources", "Sources by health.", []string{"health"}, nil),
			lag:     prometheus.NewDesc("networkfeed_queue_lag_seconds", "How far the most overdue source is past its next poll time.", nil, nil),
			storeUp: prometheus.NewDesc("networkfeed_store_up", "1 when the store answered this scrape's read of the sources (the two gauges above are left out when it did not), else 0.", nil, nil)}
		m.reg.MustRegister(m.health)
	}
	return m
}

// DueWith gives the queue lag the next poll time of a configured source the store has
// none for (never polled: due at the first-poll spread after a start or a reload) from
// due (poll.Scheduler.Due), which reports false for a source being polled or unknown.
// Call it before the metrics are served.
func (m *Metrics) DueWith(due func(url string) (time.Time, bool)) {
	if m.health != nil {
		m.health.due = due
	}
}

// Observe records one finished refresh (wire it to poll.Refresher.Observe).
func (m *Metrics) Observe(before, after news.SourceState, r poll.Result) {
	outcome := "ok"
	switch {
	case r.Err != nil:
		outcome = after.ErrorKind
		if outcome == "" {
			outcome = "error"
		}
	case r.NotMod:
		outcome = "not_modified"
	}
	m.polls.WithLabelValues(outcome).Inc()
	m.duration.Observe(r.Duration.Seconds())
	m.bytes.Add(float64(r.Bytes))
	m.items.WithLabelValues("new").Add(float64(r.New))
	m.items.WithLabelValues("updated").Add(float64(r.Updated))
	m.items.WithLabelValues("unchanged").Add(float64(r.Unchanged))
	m.items.WithLabelValues("duplicate").Add(float64(r.Duplicate))
}

// ConfigReloaded records the outcome of a config reload: a rejected one (err) shows as
// networkfeed_config_last_reload_successful 0 until a reload succeeds.
func (m *Metrics) ConfigReloaded(err error) {
	if err != nil {
		m.reloadOK.Set(0)
		return
	}
	m.reloadOK.Set(1)
	m.reloadAt.SetToCurrentTime()
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type healthCollector struct {
	sources              Sources
	config               func() *config.Config
	assessed             func(url string) (news.Health, time.Time, bool)
	due                  func(url string) (time.Time, bool)
	health, lag, storeUp *prometheus.Desc
}

// AssessWith makes the health gauge count an ok source as stale when assessed says so
// for the source's last poll (alerts.Observer.Health: the health this process assessed
// at its last refresh of the source, which the store does not keep, and that refresh's
// LastPoll). Call it before the metrics are served.
func (m *Metrics) AssessWith(assessed func(url string) (news.Health, time.Time, bool)) {
	if m.health != nil {
		m.health.assessed = assessed
	}
}

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.health
	ch <- c.lag
	ch <- c.storeUp
}

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	states, err := c.sources.SourceStates(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.storeUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.storeUp, prometheus.GaugeValue, 1)
	counts := map[news.Health]int{news.HealthOK: 0, news.HealthStale: 0, news.HealthFailing: 0, news.HealthDisabled: 0, news.HealthUnknown: 0}
	var lag time.Duration
	now := time.Now()
	count := func(s news.SourceState) {
		if s.Health == "" {
			s.Health = news.HealthUnknown
		}
		if s.Health == news.HealthOK && c.assessed != nil {
			if h, at, ok := c.assessed(s.URL); ok && h == news.HealthStale && at.Equal(s.LastPoll) {
				s.Health = news.HealthStale
			}
		}
		counts[s.Health]++
		if s.NextPoll.IsZero() && c.due != nil { // never polled (a source disabled in the config has no URL here)
			if next, ok := c.due(s.URL); ok {
				s.NextPoll = next
			}
		}
		if !s.NextPoll.IsZero() && now.Sub(s.NextPoll) > lag {
			lag = now.Sub(s.NextPoll)
		}
	}
	var cfg *config.Config
	if c.config != nil {
		cfg = c.config()
	}
	if cfg == nil {
		for _, s := range states {
			count(s)
		}
	} else {
		byURL := make(map[string]news.SourceState, len(states))
		for _, s := range states {
			byURL[s.URL] = s
		}
		for _, m := range cfg.Members {
			for _, src := range m.AllSources() {
				s, ok := byURL[src.URL()]
				if ok && s.LeftBy(m.ID) {
					// A state another member left (this member's id changed, or the
					// source moved) is none of this one's, as the dashboard has it: never
					// polled under this member, due when the scheduler has it due, not
					// failing or overdue by the old member's last poll.
					ok = false
				}
				if !ok {
					s = news.SourceState{URL: src.URL()} // never polled
				}
				if m.Disabled || src.Disabled {
					// Not polled at all: no health of its own, and never overdue.
					s = news.SourceState{Health: news.HealthDisabled}
				} else {
					// When the scheduler polls it, as the dashboard shows: a next poll
					// recorded under an earlier config (a longer interval or max_interval)
					// waits no longer than this one allows, and is overdue from then.
					s.NextPoll = poll.NextPoll(cfg, src, s)
				}
				count(s)
			}
		}
	}
	for h, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.health, prometheus.GaugeValue, float64(n), string(h))
	}
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, lag.Seconds())
}
