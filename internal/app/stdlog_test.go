package app

import (
	"encoding/json"
	stdlog "log"
	"os"
	"strings"
	"testing"

	"github.com/iss-network/networkfeed/internal/syncbuf"
)

// TestStandardLibraryLogsAreRecords: what net/http logs through the log package (here
// the line a server that sends more than its Content-Length makes it write) comes out as
// a JSON record of the process's logger, not as a line of its own format among them.
func TestStandardLibraryLogsAreRecords(t *testing.T) {
	t.Cleanup(func() {
		stdlog.SetOutput(os.Stderr)
		stdlog.SetFlags(stdlog.LstdFlags)
	})
	var buf syncbuf.Buffer
	newLoggerFor(&buf, func(string) string { return "" }, false)
	stdlog.Printf("Unsolicited response received on idle HTTP channel starting with %q; err=%v", "s 3</item>", nil)
	line := strings.TrimSpace(buf.String())
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("logged %q: not a JSON record (%v)", line, err)
	}
	if !strings.HasPrefix(rec["msg"].(string), "Unsolicited response") || rec["level"] != "WARN" || rec["component"] != "stdlib" {
		t.Errorf("record %v", rec)
	}
}
