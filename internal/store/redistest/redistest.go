// Package redistest gives tests a Redis to talk to: a private redis-server (or a
// three-master Redis Cluster) started on free loopback ports and stopped when the test
// ends, or the server named by an environment variable.
//
//   - REDIS_URL (for Server): a redis:// URL of a server to use instead of starting one.
//     THE DATABASE NAMED IN THE URL IS FLUSHED (FLUSHDB) each time Server is called, so
//     point it at a scratch database.
//   - REDIS_CLUSTER_ADDRS (for Cluster): comma-separated host:port seed addresses of a
//     cluster to use instead of starting one. Nothing is flushed there; tests must keep
//     to keys of their own (the Redis store does, by using a fresh network name).
//
// When redis-server (or redis-cli, for a cluster) is not installed, the test is
// skipped, unless the environment has CI=true, where it fails: CI must never pass by
// skipping the Redis backend.
package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startTimeout bounds how long a started server may take to answer PING.
const startTimeout = 15 * time.Second

// Server returns the URL of a Redis server for t: REDIS_URL if set (its database is
// flushed first), else a private redis-server started for t and stopped at t's cleanup.
func Server(t testing.TB) (url string) {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("redistest: parse REDIS_URL: %v", err)
		}
		c := redis.NewClient(opt)
		defer c.Close()
		if err := c.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("redistest: flush REDIS_URL database %d: %v", opt.DB, err)
		}
		return u
	}
	return Restartable(t).URL()
}

// Proc is a redis-server process owned by a test. Stop and Start let a test make Redis
// go away and come back on the same port; nothing is persisted across a restart.
type Proc struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited and been reaped
}

// Restartable starts a private redis-server for t (REDIS_URL is not used) and stops it
// at t's cleanup.
func Restartable(t testing.TB) *Proc {
	t.Helper()
	bin := lookTool(t, "redis-server")
	dir := t.TempDir()
	var lastErr error
	for range 5 { // a free port can be taken between choosing and binding it
		p := &Proc{t: t, bin: bin, dir: dir, port: freePort(t, false)}
		if lastErr = p.start(); lastErr == nil {
			t.Cleanup(p.Stop)
			return p
		}
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

// URL is the redis:// URL of the server (database 0).
func (p *Proc) URL() string { return "redis://" + p.Addr() + "/0" }

// Addr is the server's host:port.
func (p *Proc) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// Start starts the server again on its port after Stop; it fails the test if it cannot.
func (p *Proc) Start() {
	p.t.Helper()
	if err := p.start(); err != nil {
		p.t.Fatalf("redistest: restart redis-server on %s: %v", p.Addr(), err)
	}
}

// Stop kills the server at once (like a crash); it does nothing when it is not running.
func (p *Proc) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// Pause stops the server's process (SIGSTOP) without closing its connections: a hung
// Redis, which accepts and never answers. Resume continues it; the test's cleanup does
// too.
func (p *Proc) Pause() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		p.t.Fatal("redistest: Pause: not running")
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		p.t.Fatalf("redistest: pause redis-server: %v", err)
	}
	p.t.Cleanup(p.Resume)
}

// Resume continues a paused server.
func (p *Proc) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
	}
}

func (p *Proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("already running")
	}
	args := append([]string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", p.dir}, p.args...)
	logName := filepath.Join(p.dir, "redis.log")
	logf, err := os.OpenFile(logName, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	if err := waitPing(p.Addr(), exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		out, _ := os.ReadFile(logName)
		return fmt.Errorf("%w (log: %s)", err, lastLines(out, 5))
	}
	p.cmd, p.exited = cmd, exited
	return nil
}

// waitPing waits until addr answers PING, the process exits, or startTimeout passes.
func waitPing(addr string, exited <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server on %s exited: %w", addr, err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer PING in %v: %w", addr, startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Cluster returns the seed addresses of a Redis Cluster for t: REDIS_CLUSTER_ADDRS if
// set, else three private masters (no replicas) started for t and stopped at t's cleanup.
func Cluster(t testing.TB) (addrs []string) {
	t.Helper()
	if v := os.Getenv("REDIS_CLUSTER_ADDRS"); v != "" {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
		return addrs
	}
	bin := lookTool(t, "redis-server")
	cli := lookTool(t, "redis-cli")
	var procs []*Proc
	for i := range 3 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("node", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var p *Proc
		var lastErr error
		for range 5 {
			p = &Proc{t: t, bin: bin, dir: dir, port: freePort(t, true),
				args: []string{"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
					"--cluster-node-timeout", "5000"}}
			if lastErr = p.start(); lastErr == nil {
				break
			}
			p = nil
		}
		if p == nil {
			t.Fatalf("redistest: start cluster node: %v", lastErr)
		}
		t.Cleanup(p.Stop)
		procs = append(procs, p)
		addrs = append(addrs, p.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*startTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		if err := waitClusterOK(ctx, a); err != nil {
			t.Fatalf("redistest: %v", err)
		}
	}
	return addrs
}

// waitClusterOK waits until the node at addr reports cluster_state:ok.
func waitClusterOK(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster node %s not ok: %v (%w)", addr, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lookTool finds an executable, skipping t when it is missing (failing it under CI=true).
func lookTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("redistest: %s not found (CI=true: Redis tests must run): %v", name, err)
	}
	t.Skipf("redistest: %s not installed: %v", name, err)
	return ""
}

// freePort returns a loopback TCP port that is free now; with bus, port+10000 (the
// cluster bus port) is free too.
func freePort(t testing.TB, bus bool) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("redistest: find free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !bus {
			return port
		}
		if port+10000 > 65535 {
			continue
		}
		lb, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		if err != nil {
			continue
		}
		lb.Close()
		return port
	}
	t.Fatalf("redistest: no free port pair for a cluster node")
	return 0
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}
