package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/store/redistest"
	"github.com/iss-network/networkfeed/internal/syncbuf"
)

// process is a networkfeed process started by a test.
type process struct {
	cmd *exec.Cmd
	out *syncbuf.Buffer
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{out: &syncbuf.Buffer{}}
	p.cmd = exec.Command(exe, "-test.run=^$")
	p.cmd.Env = append(os.Environ(), "NF_TEST_RUN_APP=1", "NF_TEST_ARGS="+strings.Join(args, "\x1f"))
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
				<-done
			}
		}
		if t.Failed() {
			t.Logf("process %v output:\n%s", args, tail(p.out.String(), 3000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// pollLog records every feed request a fleet of local sources receives.
type pollLog struct {
	mu    sync.Mutex
	times map[int][]time.Time
}

func (l *pollLog) add(i int, t time.Time) {
	l.mu.Lock()
	l.times[i] = append(l.times[i], t)
	l.mu.Unlock()
}

func (l *pollLog) snapshot() map[int][]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int][]time.Time, len(l.times))
	for k, v := range l.times {
		out[k] = slices.Clone(v)
	}
	return out
}

// fleet serves n small RSS feeds at /f/{i}.xml.
func fleet(t *testing.T, n int) (*httptest.Server, *pollLog) {
	log := &pollLog{times: map[int][]time.Time{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/f/")
		i, err := strconv.Atoi(strings.TrimSuffix(name, ".xml"))
		if !ok || err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		log.add(i, time.Now())
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Source %d</title><link>http://example.org/%d</link>
<item><title>Story of source %d</title><link>http://example.org/%d/1</link><guid>s%d-1</guid><pubDate>Mon, 02 Mar 2026 10:00:00 +0000</pubDate></item>
</channel></rss>`, i, i, i, i, i)
	}))
	t.Cleanup(srv.Close)
	return srv, log
}

func fleetConfig(t *testing.T, base string, n int, interval time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "network: {title: Fleet, url: \"http://localhost/\"}\nfetch: {interval: %s, timeout: 3s, allow_private_addresses: true, per_host: -1, robots: false}\nmembers:\n", interval)
	for i := range n {
		fmt.Fprintf(&b, "  - {id: m%d, name: Member %d, languages: [en], sources: [{feed: \"%s/f/%d.xml\"}]}\n", i, i, base, i)
	}
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestManyWorkersShareTheSources runs 3 networkfeed processes on one Redis against 200 local
// sources: every source is polled once per interval (double polls ≤ 1%), and after kill -9
// of one process every source is still polled within interval + lease TTL.
func TestManyWorkersShareTheSources(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and runs for about 30 s")
	}
	const (
		n        = 200
		interval = 4 * time.Second
		leaseTTL = 3 * time.Second
	)
	redisURL := redistest.Server(t)
	srv, polls := fleet(t, n)
	cfg := fleetConfig(t, srv.URL, n, interval)
	var procs []*process
	for range 3 {
		procs = append(procs, startProcess(t, "serve", "-web=false", "-config", cfg, "-store", redisURL, "-lease-ttl", leaseTTL.String(), "-workers", "8"))
	}
	// Spread of first polls is interval/2; run for about three intervals.
	time.Sleep(3*interval + interval/2)
	killAt := time.Now()
	if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[0].cmd.Wait()
	deadline := killAt.Add(interval + interval/10 + leaseTTL + 2*time.Second)
	time.Sleep(time.Until(deadline) + 500*time.Millisecond)

	got := polls.snapshot()
	total, doubles := 0, 0
	for i := range n {
		ts := got[i]
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		total += len(ts)
		for k := 1; k < len(ts); k++ {
			if ts[k].Sub(ts[k-1]) < interval/2 {
				doubles++
			}
		}
		if len(ts) < 3 {
			t.Errorf("source %d polled %d times in about 5 intervals", i, len(ts))
		}
		if !slices.ContainsFunc(ts, func(x time.Time) bool { return x.After(killAt) && x.Before(deadline) }) {
			t.Errorf("source %d not polled between the kill and interval + lease TTL after it (polls %v)", i, ts)
		}
	}
	t.Logf("%d polls of %d sources, %d double polls (%.2f%%)", total, n, doubles, 100*float64(doubles)/float64(total))
	if float64(doubles) > 0.01*float64(total) {
		t.Errorf("double polls %d of %d exceed 1%%", doubles, total)
	}
}

// aofRedis is a private redis-server with AOF on, so a restart loses nothing, as in a
// real deployment.
type aofRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func newAOFRedis(t *testing.T) *aofRedis {
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server missing in CI")
		}
		t.Skip("redis-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &aofRedis{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *aofRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *aofRedis) start() {
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for range 100 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err == nil {
			fmt.Fprint(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

func (r *aofRedis) stop() {
	if r.cmd == nil || r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
}

// TestRedisGoesAway stops the store mid-poll: feeds keep being served from the last
// rendered bytes, /readyz says not ready, and when Redis is back polling resumes with
// nothing lost and nothing duplicated.
func TestRedisGoesAway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const n = 30
	redis := newAOFRedis(t)
	srv, polls := fleet(t, n)
	cfg := fleetConfig(t, srv.URL, n, 2*time.Second)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	startProcess(t, "serve", "-config", cfg, "-store", redis.url(), "-addr", addr, "-lease-ttl", "3s")
	base := "http://" + addr

	get := func(path string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor := func(what string, d time.Duration, ok func() bool) {
		t.Helper()
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			if ok() {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	countItems := func(body string) int { return strings.Count(body, "<entry") }
	waitFor("all items stored", 20*time.Second, func() bool {
		code, body := get("/feed.atom?limit=500")
		return code == 200 && countItems(body) == n
	})
	code, before := get("/feed.atom?limit=500")
	if code != 200 {
		t.Fatal(code)
	}

	redis.stop()
	waitFor("/readyz to report not ready", 10*time.Second, func() bool {
		code, _ := get("/readyz")
		return code == http.StatusServiceUnavailable
	})
	if code, body := get("/feed.atom?limit=500"); code != 200 || countItems(body) != n {
		t.Errorf("with Redis down /feed.atom = %d with %d entries, want the last rendered feed", code, countItems(body))
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d with Redis down", code)
	}
	pollsDown := len(polls.snapshot())
	_ = pollsDown
	time.Sleep(3 * time.Second)

	redis.start()
	resumed := time.Now()
	waitFor("/readyz to recover", 20*time.Second, func() bool {
		code, _ := get("/readyz")
		return code == 200
	})
	waitFor("polling to resume", 20*time.Second, func() bool {
		snap := polls.snapshot()
		for i := range n {
			if !slices.ContainsFunc(snap[i], func(x time.Time) bool { return x.After(resumed) }) {
				return false
			}
		}
		return true
	})
	code, after := get("/feed.atom?limit=500")
	if code != 200 || countItems(after) != n {
		t.Errorf("after Redis came back: %d entries, want %d (nothing lost, nothing duplicated)", countItems(after), n)
	}
	if countItems(before) != countItems(after) {
		t.Errorf("entries before %d, after %d", countItems(before), countItems(after))
	}
}
