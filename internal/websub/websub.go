// Package websub tells a WebSub hub that networkfeed's feeds changed, so that subscribers
// get new items pushed instead of polling. Feeds advertise the hub themselves (rel="hub"
// links, JSON Feed "hubs"); this package sends the publish pings.
//
// The ping is the form POST that hubs accept from publishers (WebSub leaves the publisher
// side open; Google's hub, Superfeedr, Switchboard and websub.rocks all take it):
//
//	POST {hub}  Content-Type: application/x-www-form-urlencoded
//	hub.mode=publish&hub.url={topic}
//
// One request is sent per topic: some hubs take only one hub.url per request.
package websub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Pinger pings one hub. A nil *Pinger pings nothing, so callers need no "is a hub
// configured?" check.
type Pinger struct {
	hub    string
	client *http.Client
	log    *slog.Logger
	// concurrency bounds the pings in flight for one Notify.
	concurrency int
}

// NewPinger returns a Pinger for hub, or nil when hub is empty. client is the shared
// HTTP client of the process (http.DefaultClient when nil); its timeout bounds each ping.
func NewPinger(hub string, client *http.Client, log *slog.Logger) *Pinger {
	if hub == "" {
		return nil
	}
	if client == nil {
		client = http.DefaultClient
	}
	if log == nil {
		log = slog.Default()
	}
	return &Pinger{hub: hub, client: client, log: log, concurrency: 4}
}

// Hub returns the hub URL.
func (p *Pinger) Hub() string {
	if p == nil {
		return ""
	}
	return p.hub
}

// Notify tells the hub that each of urls (feed URLs exactly as their rel="self" links
// read) changed. Duplicates are pinged once. It returns the failed pings joined, each
// naming its topic; the other pings are still sent.
func (p *Pinger) Notify(ctx context.Context, urls []string) error {
	if p == nil || len(urls) == 0 {
		return nil
	}
	topics := slices.Clone(urls)
	slices.Sort(topics)
	topics = slices.Compact(topics)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, p.concurrency)
	)
	for _, u := range topics {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs = append(errs, fmt.Errorf("ping hub for %s: %w", u, ctx.Err()))
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			if err := p.ping(ctx, u); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) == 0 {
		p.log.Debug("websub hub pinged", "hub", p.hub, "topics", len(topics))
	}
	return errors.Join(errs...)
}

// ping sends one publish notification.
func (p *Pinger) ping(ctx context.Context, topic string) error {
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("ping hub for %s: %w", topic, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("ping hub for %s: %w", topic, err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("ping hub for %s: %w", topic, &HubError{Code: res.StatusCode, Body: strings.TrimSpace(string(msg))})
	}
	return nil
}

// HubError is a ping the hub answered with a status other than 2xx.
type HubError struct {
	Code int
	Body string // the start of the hub's answer
}

func (e *HubError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("hub answered HTTP %d", e.Code)
	}
	return fmt.Sprintf("hub answered HTTP %d: %s", e.Code, e.Body)
}

// Formats are the feed formats networkfeed serves, in the order Topics lists them.
var formats = []string{"rss", "atom", "json"}

// Topics returns the feed URLs that change when items of members change: the network
// feeds and each member's feeds, in every format, under base (the network URL, ending in
// "/"). Filtered feeds (?member=…&lang=…) are topics of their own; hubs are not pinged
// for them, since there are as many as there are filters, so they do not advertise the
// hub either.
func Topics(base string, members []string) []string {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	out := make([]string, 0, 3*(1+len(members)))
	for _, f := range formats {
		out = append(out, base+"feed."+f)
	}
	ms := slices.Clone(members)
	slices.Sort(ms)
	for _, m := range slices.Compact(ms) {
		if m == "" {
			continue
		}
		for _, f := range formats {
			out = append(out, base+"members/"+url.PathEscape(m)+"/feed."+f)
		}
	}
	return out
}
