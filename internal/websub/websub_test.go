package websub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeHub records the topics it is told about and answers with status.
type fakeHub struct {
	mu     sync.Mutex
	topics []string
	bad    []string // requests that were not well-formed publish pings
	status int
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		r.PostForm.Get("hub.mode") != "publish" || len(r.PostForm["hub.url"]) != 1 {
		h.bad = append(h.bad, r.Method+" "+r.Header.Get("Content-Type")+" "+r.PostForm.Encode())
		http.Error(w, "bad ping", http.StatusBadRequest)
		return
	}
	h.topics = append(h.topics, r.PostForm.Get("hub.url"))
	if h.status != 0 {
		http.Error(w, "hub is unwell", h.status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestNotify(t *testing.T) {
	tests := []struct {
		name       string
		urls       []string
		status     int
		wantTopics []string
		wantErr    string
		wantCode   int
	}{
		{name: "one feed", urls: []string{"https://n.example/feed.atom"}, wantTopics: []string{"https://n.example/feed.atom"}},
		{name: "duplicates pinged once", urls: []string{"https://n.example/feed.rss", "https://n.example/feed.atom", "https://n.example/feed.rss"},
			wantTopics: []string{"https://n.example/feed.atom", "https://n.example/feed.rss"}},
		{name: "nothing to ping", urls: nil},
		{name: "hub failure names the topic", urls: []string{"https://n.example/feed.json"}, status: 503,
			wantTopics: []string{"https://n.example/feed.json"}, wantErr: "ping hub for https://n.example/feed.json: hub answered HTTP 503: hub is unwell", wantCode: 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hub := &fakeHub{status: tc.status}
			srv := httptest.NewServer(hub)
			defer srv.Close()
			p := NewPinger(srv.URL, srv.Client(), nil)
			err := p.Notify(context.Background(), tc.urls)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if tc.wantErr != "" {
				var he *HubError
				if err == nil || err.Error() != tc.wantErr || !errors.As(err, &he) || he.Code != tc.wantCode {
					t.Fatalf("Notify error %v, want %q", err, tc.wantErr)
				}
			}
			slices.Sort(hub.topics)
			if !slices.Equal(hub.topics, tc.wantTopics) || len(hub.bad) > 0 {
				t.Errorf("hub got topics %v (malformed %v), want %v", hub.topics, hub.bad, tc.wantTopics)
			}
		})
	}
}

func TestNotifyUnreachableAndCancelled(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	p := NewPinger(srv.URL, nil, nil)
	if err := p.Notify(context.Background(), []string{"https://n.example/feed.atom"}); err == nil || !strings.Contains(err.Error(), "ping hub for https://n.example/feed.atom") {
		t.Errorf("unreachable hub: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Notify(ctx, []string{"https://n.example/feed.atom"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestNilPinger(t *testing.T) {
	p := NewPinger("", nil, nil)
	if p != nil || p.Hub() != "" {
		t.Fatalf("NewPinger(\"\") = %v, want nil", p)
	}
	if err := p.Notify(context.Background(), []string{"https://n.example/feed.atom"}); err != nil {
		t.Errorf("nil Pinger: %v", err)
	}
}

func TestTopics(t *testing.T) {
	got := Topics("https://news.example.org", []string{"ch", "au", "ch", ""})
	want := []string{
		"https://news.example.org/feed.rss", "https://news.example.org/feed.atom", "https://news.example.org/feed.json",
		"https://news.example.org/members/au/feed.rss", "https://news.example.org/members/au/feed.atom", "https://news.example.org/members/au/feed.json",
		"https://news.example.org/members/ch/feed.rss", "https://news.example.org/members/ch/feed.atom", "https://news.example.org/members/ch/feed.json",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Topics:\n%v\nwant\n%v", got, want)
	}
}
