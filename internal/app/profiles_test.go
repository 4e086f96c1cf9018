package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
