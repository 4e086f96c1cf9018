package app

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// The profiling variables each give their file: a CPU profile, an execution trace
// (go tool trace reads files that start "go 1.") and a heap profile; a path that cannot
// be created is reported and the others still written.
func TestStartProfiles(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"NETWORKFEED_CPUPROFILE": filepath.Join(dir, "cpu"),
		"NETWORKFEED_TRACE":      filepath.Join(dir, "trace"),
		"NETWORKFEED_MEMPROFILE": filepath.Join(dir, "mem"),
	}
	var stderr bytes.Buffer
	stop := startProfiles(func(k string) string { return vars[k] }, &stderr)
	if stop == nil {
		t.Fatal("no profiles started")
	}
	stop()
	for k, p := range vars {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", k, len(b), err)
		}
	}
	if b, _ := os.ReadFile(vars["NETWORKFEED_TRACE"]); !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("trace starts %q, want an execution trace", b[:min(len(b), 16)])
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %s", stderr.String())
	}

	vars["NETWORKFEED_TRACE"] = filepath.Join(dir, "missing", "trace")
	vars["NETWORKFEED_CPUPROFILE"] = filepath.Join(dir, "cpu2")
	stderr.Reset()
	startProfiles(func(k string) string { return vars[k] }, &stderr)()
	if !strings.Contains(stderr.String(), "networkfeed: trace:") {
		t.Errorf("stderr %q does not report the trace file", stderr.String())
	}
	if fi, err := os.Stat(vars["NETWORKFEED_CPUPROFILE"]); err != nil || fi.Size() == 0 {
		t.Errorf("CPU profile beside a failed trace: %v", err)
	}
	if startProfiles(func(string) string { return "" }, &stderr) != nil {
		t.Error("profiles started with no variable set")
	}
}

// The peak heap profile is the one taken at the largest live heap: a profile written
// while 64 MB were held names the function that held them, and it is not overwritten
// once they are let go.
func TestPeakProfileKeepsTheLargestHeap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peak")
	var stderr bytes.Buffer
	held := holdPeak(64 << 20)
	stop := peakProfiles(path, 5*time.Millisecond, &stderr)
	waitForFile(t, path)
	runtime.KeepAlive(held)
	held = nil
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	stop()
	if stderr.Len() != 0 {
		t.Fatalf("stderr: %s", stderr.String())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var inuse int64
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				if strings.HasSuffix(l.Function.Name, ".holdPeak") {
					inuse += s.Value[3] // inuse_space
				}
			}
		}
	}
	if inuse < 32<<20 {
		t.Errorf("peak profile holds %d bytes from holdPeak, want the 64 MB held at the peak", inuse)
	}
}

//go:noinline
func holdPeak(n int) [][]byte {
	var out [][]byte
	for range n >> 20 {
		out = append(out, make([]byte, 1<<20))
	}
	runtime.GC()
	return out
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
	}
	t.Fatalf("no profile written at %s", path)
}
