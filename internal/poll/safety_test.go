package poll

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
)

// TestDeeplyNestedFeedDoesNotCrashThePoll: a source serving an RSS feed whose item holds
// an extension element nested 3,000,000 levels deep (9 MB, under the default max_body)
// took the whole process down with "fatal error: stack overflow" (gofeed's recursive
// parseExtensionElement, see feed.TestParseDeeplyNestedExtension). The poll runs in a
// child process so that the crash fails this test only.
func TestDeeplyNestedFeedDoesNotCrashThePoll(t *testing.T) {
	if os.Getenv("NF_DEEP_POLL_CHILD") == "1" {
		body := `<?xml version="1.0"?><rss version="2.0" xmlns:x="urn:x"><channel><title>T</title><item><guid>1</guid><title>A</title><x:a>` +
			strings.Repeat("<a>", 3_000_000)
		srv := httptest.NewServer(serveBody("application/rss+xml", body))
		defer srv.Close()
		db := openBolt(t)
		ref := newTestRefresher(t, db, testConfig(t, "{interval: 30m, timeout: 20s}"), fetch.New(fetch.Options{Timeout: 20 * time.Second, AllowPrivate: true}))
		res := ref.Refresh(context.Background(), feedJob("deep", srv.URL+"/feed"))
		if res.Err == nil || !strings.Contains(res.Err.Error(), "nested more than") {
			t.Fatalf("refresh: %v, want an error naming the nesting", res.Err)
		}
		st, err := db.Source(context.Background(), srv.URL+"/feed")
		if err != nil || st.Health != news.HealthFailing || !strings.Contains(st.Error, "nested") {
			t.Fatalf("source state %+v, %v: want failing with the nesting named", st, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeeplyNestedFeedDoesNotCrashThePoll$", "-test.v")
	cmd.Env = append(os.Environ(), "NF_DEEP_POLL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := string(out)
		if i := strings.Index(msg, "fatal error"); i >= 0 {
			msg = msg[i:min(len(msg), i+120)]
		} else if len(msg) > 400 {
			msg = msg[:400]
		}
		t.Fatalf("one hostile feed: %v\n%s", err, msg)
	}
}
