package app

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestOpenStoreRedisSchemes: every scheme the Redis store reads opens Redis (here a
// closed port, so an error naming Redis), never an embedded store at a path that looks
// like the URL.
func TestOpenStoreRedisSchemes(t *testing.T) {
	for _, dsn := range []string{
		"redis://127.0.0.1:1/0",
		"rediss://127.0.0.1:1/0",
		"redis+sentinel://127.0.0.1:1/mymaster",
		"rediss+sentinel://127.0.0.1:1/mymaster",
		"redis+cluster://127.0.0.1:1",
		"rediss+cluster://127.0.0.1:1",
	} {
		t.Run(dsn, func(t *testing.T) {
			t.Chdir(t.TempDir())
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second) // sentinel clients retry long
			defer cancel()
			st, err := openStore(ctx, dsn)
			if err == nil {
				st.Close()
				t.Fatal("opened a store")
			}
			if !strings.Contains(err.Error(), "redis") {
				t.Errorf("error %q does not come from the Redis store", err)
			}
			if entries, _ := os.ReadDir("."); len(entries) > 0 {
				t.Errorf("created %s in the working directory", entries[0].Name())
			}
		})
	}
}
