package poll

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/news"
)

// TestDeeplyNestedFeedDoesNotCrashThePoll: a source serving an RSS feed whose item holds
// an extension element nested 3,000,000 levels deep (9 MB, under the default max_body)
// took the whole process down with "fatal error: stack overflow" (gofeed's recursive
// parseExtensionElement; feed.TestParseDeeplyNestedExtension pins that in a child
// process). The source now fails with the nesting named in its status.
func TestDeeplyNestedFeedDoesNotCrashThePoll(t *testing.T) {
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
}
