package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master name Sentinel returns DSNs for.
const SentinelMaster = "nfmaster"

// Sentinel starts a private redis-server and a Redis Sentinel monitoring it, both
// stopped at t's cleanup, and returns the store DSN that reaches the master through the
// Sentinel: redis+sentinel://127.0.0.1:PORT/nfmaster.
func Sentinel(t testing.TB) (dsn string) {
	t.Helper()
	master := Restartable(t)
	bin := lookTool(t, "redis-server")
	dir := t.TempDir()
	port := freePort(t, false)
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s 1\n",
		port, dir, SentinelMaster, replaceColon(master.Addr()))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatalf("redistest: write sentinel config: %v", err)
	}
	logf, err := os.Create(filepath.Join(dir, "sentinel.log"))
	if err != nil {
		t.Fatalf("redistest: sentinel log: %v", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, conf, "--sentinel")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start sentinel: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitPing(addr, exited); err != nil {
		out, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
		t.Fatalf("redistest: sentinel: %v (log: %s)", err, lastLines(out, 5))
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer sc.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		got, err := sc.GetMasterAddrByName(context.Background(), SentinelMaster).Result()
		if err == nil && len(got) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: sentinel does not know master %s: %v", SentinelMaster, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "redis+sentinel://" + addr + "/" + SentinelMaster
}

// replaceColon turns host:port into "host port", as sentinel monitor wants it.
func replaceColon(hostport string) string {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[:i] + " " + hostport[i+1:]
		}
	}
	return hostport
}
