package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	"github.com/iss-network/networkfeed/internal/syncbuf"
)

// signalSite serves /a.xml and /b.xml; a request for /slow.xml is held until released.
type signalSite struct {
	srv         *httptest.Server
	mu          sync.Mutex
	hits        map[string]int
	slowStarted chan struct{}
	release     chan struct{}
}

func newSignalSite(t *testing.T) *signalSite {
	s := &signalSite{hits: map[string]int{}, slowStarted: make(chan struct{}, 100), release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".xml")
		switch name {
		case "a", "b", "slow":
		default:
			http.NotFound(w, r)
			return
		}
		if name == "slow" {
			s.slowStarted <- struct{}{}
			<-s.release
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>%[1]s</title><item><guid>%[1]s-1</guid><title>%[1]s one</title><link>https://m.example.org/%[1]s/1</link></item><item><guid>%[1]s-2</guid><title>%[1]s two</title><link>https://m.example.org/%[1]s/2</link></item></channel></rss>`, name)
	}))
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.srv.Close()
	})
	return s
}

func (s *signalSite) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func writeSignalConfig(t *testing.T, path, base string, feeds ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("fetch: {interval: 2s, timeout: 30s, allow_private_addresses: true, robots: false}\nmembers:\n")
	for _, f := range feeds {
		fmt.Fprintf(&b, "  - {id: m-%s, name: M %s, sources: [{feed: %q}]}\n", f, f, base+"/"+f+".xml")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 10ms until it holds or a minute has gone (a hang, not a speed check).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestServeSignals runs `networkfeed serve` as a real process and sends it real signals:
// SIGHUP with an invalid config is rejected and logged while polling goes on with the
// old one; SIGHUP with a valid config adds its new source without dropping the old;
// SIGTERM during a poll lets that poll finish and record, and the process exits 0.
func TestServeSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	site := newSignalSite(t)
	dir := t.TempDir()
	cfgPath, dbPath := filepath.Join(dir, "feeds.yaml"), filepath.Join(dir, "nf.db")
	writeSignalConfig(t, cfgPath, site.srv.URL, "a")
	p := startProcess(t, "serve", "-config", cfgPath, "-store", dbPath, "-web=false", "-workers", "4")
	waitFor(t, "the first poll of a", func() bool { return site.hit("/a.xml") >= 1 })

	// An invalid config: rejected, logged, old config kept.
	if err := os.WriteFile(cfgPath, []byte("fetch: {interval: 2s}\nmembers: [{id: BAD ID!, name: x}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the rejection in the log", func() bool { return strings.Contains(p.out.String(), "config reload rejected") })

	// A valid config adding b and slow: both polled; a goes on being polled.
	writeSignalConfig(t, cfgPath, site.srv.URL, "a", "b", "slow")
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload in the log", func() bool { return strings.Contains(p.out.String(), `"msg":"config reloaded"`) })
	waitFor(t, "b polled", func() bool { return site.hit("/b.xml") >= 1 })
	waitFor(t, "a polled again", func() bool { return site.hit("/a.xml") >= 2 })
	<-site.slowStarted

	// SIGTERM while the slow poll is in flight: it is let finish, then the process exits.
	p.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "shutdown to begin", func() bool { return strings.Contains(p.out.String(), "shutting down") })
	close(site.release)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not exit after SIGTERM")
	}

	st, err := boltstore.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, name := range []string{"a", "b", "slow"} {
		u := site.srv.URL + "/" + name + ".xml"
		s, err := st.Source(ctx, u)
		if err != nil || s.Health != news.HealthOK {
			t.Errorf("%s: state %+v, %v: want recorded and ok", name, s.Health, err)
		}
		items, err := st.Items(ctx, news.Query{Members: []string{"m-" + name}, Limit: 10})
		if err != nil || len(items) != 2 {
			t.Errorf("%s: %d items stored (%v), want 2", name, len(items), err)
		}
	}
}

// TestProgressLine: the terminal status line counts distinct sources polled and those
// failing now (a recovered source stops counting as failing), and a reload that removes
// sources takes them out of the counts too (never "polled 3/2").
func TestProgressLine(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		results []poll.Result
		jobs    []string // the sources after a reload
		want    string
	}{
		{"recovered", []poll.Result{{URL: "a"}, {URL: "b", Err: boom}, {URL: "a", Err: boom}, {URL: "a"}}, []string{"a", "b", "c", "d"},
			"polled 2/4 sources since start, 1 failing"},
		{"sources removed", []poll.Result{{URL: "a"}, {URL: "b", Err: boom}, {URL: "c", Err: boom}}, []string{"a", "d"},
			"polled 1/2 sources since start, 0 failing"},
		// Refreshes that recorded nothing (the store stopped answering, or a shutdown cut
		// them short) are not the source's failures: they counted as failing (found by a
		// helper's audit), as neither the dashboard nor the alerts do.
		{"not recorded", []poll.Result{{URL: "a"}, {URL: "b", Err: fmt.Errorf("store items: %w", store.ErrUnavailable)},
			{URL: "c", Err: context.Canceled}, {URL: "a", Err: fmt.Errorf("look up stored items: %w", store.ErrUnavailable)}}, []string{"a", "b", "c"},
			"polled 1/3 sources since start, 0 failing"},
		// A store that answers but cannot save is no failure of the source's either (its
		// health stays as it was): polled, failing as before.
		{"not saved", []poll.Result{{URL: "a"}, {URL: "b", Err: boom}, {URL: "a", Err: &store.WriteError{Err: boom}},
			{URL: "b", Err: &store.WriteError{Err: boom}}, {URL: "c", Err: &store.WriteError{Err: boom}}}, []string{"a", "b", "c"},
			"polled 3/3 sources since start, 1 failing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncbuf.Buffer
			p := newProgress(&buf, 3)
			for _, r := range tc.results {
				p.observe(r)
			}
			p.setJobs(feedJobs(tc.jobs...))
			p.stop()
			p.stop() // idempotent
			if got := buf.String(); !strings.HasSuffix(got, "\r\033[K"+tc.want+"\n") || strings.Count(got, "\n") != 1 {
				t.Errorf("progress output %q, want it to end with %q", got, tc.want)
			}
		})
	}
}

// TestPollShowsMovedSources: `networkfeed poll` names a source that moved permanently
// (301) and where to, as "update feeds.yaml"; one moved only for now (302) is not named.
func TestPollShowsMovedSources(t *testing.T) {
	site := newSignalSite(t)
	mux := http.NewServeMux()
	mux.Handle("/old.xml", http.RedirectHandler(site.srv.URL+"/a.xml", http.StatusMovedPermanently))
	mux.Handle("/away.xml", http.RedirectHandler(site.srv.URL+"/b.xml", http.StatusFound))
	redir := httptest.NewServer(mux)
	t.Cleanup(redir.Close)
	cfg := filepath.Join(t.TempDir(), "feeds.yaml")
	writeSignalConfig(t, cfg, redir.URL, "old", "away")
	out, code := runCmd(t, "poll", "-config", cfg, "-store", filepath.Join(t.TempDir(), "nf.db"))
	if code != 0 || !strings.Contains(out, "4 new items, 0 failing") {
		t.Fatalf("poll: %d\n%s", code, out)
	}
	want := fmt.Sprintf("MOVED  m-old  %s/old.xml  moved permanently to %s/a.xml: update feeds.yaml", redir.URL, site.srv.URL)
	if !strings.Contains(out, want) || strings.Contains(out, "away.xml  moved") {
		t.Errorf("poll output:\n%s\nwant the line %q and none for the 302", out, want)
	}
}

func feedJobs(urls ...string) []poll.Job {
	var out []poll.Job
	for _, u := range urls {
		out = append(out, poll.Job{Member: &config.Member{ID: "m"}, Source: config.Source{Feed: u}})
	}
	return out
}

// TestLogsAndProgressShareTheTerminal: on a terminal a log record clears the progress
// line before it is written, so it starts a line of its own (as the terminal shows it),
// and the next progress update draws the line again.
func TestLogsAndProgressShareTheTerminal(t *testing.T) {
	var buf syncbuf.Buffer
	p := newProgress(&buf, 2)
	log := newLoggerFor(&buf, func(string) string { return "" }, true)
	p.observe(poll.Result{URL: "a", Err: errors.New("boom")})
	waitFor(t, "the progress line", func() bool { return strings.Contains(buf.String(), "polled 1/2") })
	log.Warn("source failing", "member", "m", "source", "a")
	p.observe(poll.Result{URL: "b"})
	p.stop()
	want := []string{`time=… level=WARN msg="source failing" member=m source=a`, "polled 2/2 sources since start, 1 failing", ""}
	got := screen(buf.String())
	for i := range got {
		if i == 0 && strings.HasPrefix(got[0], "time=") {
			_, rest, _ := strings.Cut(got[0], " ")
			got[0] = "time=… " + rest
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("terminal shows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// screen is what a terminal shows for out: "\r" returns to the start of the line,
// "\033[K" erases to its end, "\n" starts the next line.
func screen(out string) []string {
	lines := []string{""}
	col := 0
	for i := 0; i < len(out); i++ {
		cur := &lines[len(lines)-1]
		switch {
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			lines = append(lines, "")
			col = 0
		case strings.HasPrefix(out[i:], "\033[K"):
			*cur = (*cur)[:col]
			i += 2
		default:
			if col < len(*cur) {
				*cur = (*cur)[:col] + out[i:i+1] + (*cur)[col+1:]
			} else {
				*cur += out[i : i+1]
			}
			col++
		}
	}
	return lines
}

// TestPollListsFailuresInConfigOrder: `networkfeed poll` lists failing sources in the
// order of feeds.yaml, whichever finished first.
func TestPollListsFailuresInConfigOrder(t *testing.T) {
	site := newSignalSite(t)
	cfg := filepath.Join(t.TempDir(), "feeds.yaml")
	writeSignalConfig(t, cfg, site.srv.URL, "zz", "a", "mm", "b", "aa")
	out, code := runCmd(t, "poll", "-config", cfg, "-store", filepath.Join(t.TempDir(), "nf.db"))
	if code != 0 || !strings.Contains(out, "4 new items, 3 failing") {
		t.Fatalf("poll: %d\n%s", code, out)
	}
	zz, mm, aa := strings.Index(out, "FAIL  m-zz"), strings.Index(out, "FAIL  m-mm"), strings.Index(out, "FAIL  m-aa")
	if zz < 0 || mm < zz || aa < mm {
		t.Errorf("FAIL lines not in the order of feeds.yaml (zz, mm, aa):\n%s", out)
	}
}

// TestPollInterruptedSaysSo: `networkfeed poll` stopped by SIGTERM/SIGINT (ctx
// cancelled) says it was interrupted and how many sources it polled, and returns an
// error (a non-zero exit). Before, found by a helper's audit, it reported "polled N
// sources" for sources it never polled, listed them as FAIL with the raw "context
// canceled" text, and exited 0: a cron job could not tell it from a complete run.
func TestPollInterruptedSaysSo(t *testing.T) {
	site := newSignalSite(t)
	cfg := filepath.Join(t.TempDir(), "feeds.yaml")
	writeSignalConfig(t, cfg, site.srv.URL, "slow", "a")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-site.slowStarted; time.Sleep(100 * time.Millisecond); cancel() }()
	var out, errb bytes.Buffer
	err := runPoll(ctx, []string{"-config", cfg, "-store", filepath.Join(t.TempDir(), "nf.db"), "-workers", "1"},
		func(string) string { return "" }, &out, &errb)
	if err == nil || strings.Contains(out.String(), "polled 2 sources") || !strings.Contains(out.String(), "interrupted: polled") || strings.Contains(out.String(), "FAIL") {
		t.Errorf("interrupted poll: err %v, output:\n%s\nwant an error (non-zero exit) and no claim that every source was polled", err, out.String())
	}
}

// TestProgressIgnoresSourcesRemovedInFlight: a source removed by a reload while its
// poll is in flight is not counted when that poll finishes (it was, found by a helper's
// audit: "polled 2/2 ... 1 failing" with one of the two configured sources polled).
func TestProgressIgnoresSourcesRemovedInFlight(t *testing.T) {
	var buf syncbuf.Buffer
	p := newProgress(&buf, 2)
	p.setJobs(feedJobs("a", "b")) // reload: "gone" removed while it is being polled
	p.observe(poll.Result{URL: "a"})
	p.observe(poll.Result{URL: "gone", Err: errors.New("boom")}) // its poll finishes after the reload
	p.stop()
	if want := "polled 1/2 sources since start, 0 failing"; !strings.HasSuffix(buf.String(), want+"\n") {
		t.Errorf("progress %q, want %q", buf.String(), want)
	}
}

// TestLogsStayJSONWhenRedisGoesAway: with stderr not a terminal every log line is JSON,
// go-redis's own messages too (redisstore.LogTo). Before, found by a helper's audit,
// while Redis was unreachable go-redis's logger wrote plain "redis: 2026/... pool.go:770:
// ..." lines there, several a second.
func TestLogsStayJSONWhenRedisGoesAway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	redis := newAOFRedis(t)
	srv, _ := fleet(t, 2)
	cfg := fleetConfig(t, srv.URL, 2, time.Second)
	p := startProcess(t, "serve", "-config", cfg, "-store", redis.url(), "-web=false")
	time.Sleep(2 * time.Second)
	redis.stop()
	waitFor(t, "polling to pause", func() bool { return strings.Contains(p.out.String(), "polling paused") })
	time.Sleep(time.Second)
	for _, line := range strings.Split(strings.TrimSpace(p.out.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("log line not JSON: %q", line)
			break
		}
	}
}

// TestPollSaysWhenItStopsASource: a source that answers 410 Gone is disabled, and
// `poll`'s FAIL line says polling stopped and what to do, as the dashboard does (it
// printed only "HTTP 410 Gone"; found by a helper's audit).
func TestPollSaysWhenItStopsASource(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/gone.xml", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) }))
	mux.Handle("/down.xml", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := filepath.Join(t.TempDir(), "feeds.yaml")
	writeSignalConfig(t, cfg, srv.URL, "gone", "down")
	out, code := runCmd(t, "poll", "-config", cfg, "-store", filepath.Join(t.TempDir(), "nf.db"))
	if code != 0 {
		t.Fatalf("poll: %d\n%s", code, out)
	}
	var gone, down string
	for _, l := range strings.Split(out, "\n") { // the FAIL lines, not the log's
		switch {
		case !strings.HasPrefix(l, "FAIL"):
		case strings.Contains(l, "/gone.xml"):
			gone = l
		case strings.Contains(l, "/down.xml"):
			down = l
		}
	}
	if !strings.Contains(gone, "polling stopped: correct or remove this source in feeds.yaml") {
		t.Errorf("410 line %q, want it to say polling stopped", gone)
	}
	if down == "" || strings.Contains(down, "polling stopped") {
		t.Errorf("500 line %q, want a FAIL line without 'polling stopped'", down)
	}
}

// downStore is a store that stops answering when items are to be written, as Redis does
// when it goes away in the middle of a poll.
type downStore struct{ poll.Store }

func (downStore) Upsert(context.Context, []news.Item) (news.UpsertResult, error) {
	return news.UpsertResult{}, fmt.Errorf("redis upsert: %w: connection refused", store.ErrUnavailable)
}

// fullStore is a store that answers but cannot save items (a full disk, Redis out of
// memory), as the stores report it.
type fullStore struct{ poll.Store }

func (fullStore) Upsert(context.Context, []news.Item) (news.UpsertResult, error) {
	return news.UpsertResult{}, fmt.Errorf("upsert 2 items: %w", &store.WriteError{Err: errors.New("write nf.db: no space left on device")})
}

// TestPollFailsWhenTheStoreCannotSave: sources whose items the store could not save are
// listed (FAIL, naming the store) and the poll returns an error, a non-zero exit: it
// exited 0 while nothing was stored (found by a helper's audit).
func TestPollFailsWhenTheStoreCannotSave(t *testing.T) {
	out, err := pollThrough(t, func(s poll.Store) poll.Store { return fullStore{s} }, 2, "a", "b", "gone")
	if err == nil || !strings.Contains(err.Error(), "2 of 3 sources not saved") {
		t.Errorf("poll with a full store: err %v, want one saying the items of 2 of 3 sources were not saved", err)
	}
	if !regexp.MustCompile(`(?m)^FAIL +m-a +\S+/a\.xml +the store could not save the items: write nf\.db: no space left on device$`).MatchString(out) {
		t.Errorf("poll output:\n%s\nwant a's FAIL line naming the store", out)
	}
}

// TestPollFailsWhenTheStoreStopsAnswering: sources whose items the store could not
// record are listed (FAIL, the store is unavailable) and the poll returns an error, a
// non-zero exit. It exited 0, found by a helper's audit with a Redis stopped during a
// run: "polled 14 sources: 13 failing" and a cron job that saw success while nothing
// was stored.
func TestPollFailsWhenTheStoreStopsAnswering(t *testing.T) {
	out, err := pollThrough(t, func(s poll.Store) poll.Store { return downStore{s} }, 2, "a", "b", "gone")
	if err == nil || !strings.Contains(err.Error(), "2 of 3 sources not recorded") {
		t.Errorf("poll with the store down: err %v, want one saying 2 of 3 sources were not recorded", err)
	}
	if !regexp.MustCompile(`(?m)^FAIL +m-a +\S+/a\.xml +the store is unavailable$`).MatchString(out) || !strings.Contains(out, "3 failing") {
		t.Errorf("poll output:\n%s\nwant a's FAIL line naming the store, and 3 failing", out)
	}
}

// pollThrough polls the signal site's sources named (see newSignalSite) once, as
// `networkfeed poll` does with workers workers, through the embedded store wrapped by
// wrap, and returns what it printed and its error.
func pollThrough(t *testing.T, wrap func(poll.Store) poll.Store, workers int, names ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := pollThroughTo(t, &out, wrap, workers, names...)
	return out.String(), err
}

// pollThroughTo is pollThrough printing to out (a terminal, for the progress line).
func pollThroughTo(t *testing.T, out io.Writer, wrap func(poll.Store) poll.Store, workers int, names ...string) error {
	t.Helper()
	site := newSignalSite(t)
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	writeSignalConfig(t, path, site.srv.URL, names...)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	bolt, err := boltstore.Open(filepath.Join(t.TempDir(), "nf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	log := newLoggerFor(io.Discard, func(string) string { return "" }, false)
	ref := newRefresher(func() *config.Config { return cfg }, newFetcher(cfg), wrap(bolt), log)
	return pollOnce(context.Background(), ref, poll.Jobs(cfg), workers, out)
}

// TestProgressOnlyWhenPolling: serve keeps a progress line on a terminal when it polls;
// a pure web front (-poll=false) polls nothing and shows none (it printed "polled 0/N
// sources since start, 0 failing" when it shut down).
func TestProgressOnlyWhenPolling(t *testing.T) {
	cfg, err := config.Parse("feeds.yaml", []byte("network: {title: T, url: \"https://news.example.org/\"}\nfetch: {interval: 1h}\nmembers:\n  - {id: m, name: M, disabled: true, sources: [{feed: \"http://127.0.0.1:1/a.xml\"}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		poll bool
		want string // on the terminal, "" for nothing
	}{
		{true, "polled 0/0 sources since start, 0 failing"},
		{false, ""},
	} {
		t.Run(fmt.Sprintf("poll=%v", tc.poll), func(t *testing.T) {
			term, screenText := openTerminal(t)
			listening := make(chan string, 1)
			_, stop := startServe(t, cfg, serveOptions{addr: "127.0.0.1:0", web: true, poll: tc.poll, workers: 1, stdout: term,
				listening: func(a string) { listening <- a }})
			<-listening
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(strings.Join(screen(screenText()), "\n"))
			if got != tc.want {
				t.Errorf("the terminal shows %q, want %q", got, tc.want)
			}
		})
	}
}

// openTerminal opens a pseudo-terminal: what the process writes to the file it returns
// (a terminal, as isTerminal sees it) is read back by text, which closes it first.
func openTerminal(t *testing.T) (*os.File, func() string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("TIOCGPTN: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("TIOCSPTLCK: %v", e)
	}
	term, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	// Raw output: the terminal would otherwise turn "\n" into "\r\n".
	var tio syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, term.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
		t.Fatalf("TCGETS: %v", e)
	}
	tio.Oflag &^= syscall.OPOST
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, term.Fd(), syscall.TCSETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
		t.Fatalf("TCSETS: %v", e)
	}
	var out syncbuf.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&out, master) // until the terminal closes (EIO)
		close(read)
	}()
	return term, func() string {
		term.Close()
		<-read
		return out.String()
	}
}
