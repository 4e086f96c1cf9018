package app

import (
	"context"
	"strings"
	"testing"
	"time"

	redisstore "github.com/iss-network/networkfeed/internal/store/redis"
	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// TestPollCommandRespectsServeLeases: `networkfeed poll` run (by cron) beside serve
// workers on the same Redis does not fetch a source whose lease a worker holds (the
// worker is polling it now): it says so and leaves it. Before, found by a helper's
// audit, it took no lease at all, fetched the source at the same time, and the state
// it wrote last replaced the worker's (items, history).
func TestPollCommandRespectsServeLeases(t *testing.T) {
	redisURL := redistest.Server(t)
	srv, polls := fleet(t, 2)
	cfg := fleetConfig(t, srv.URL, 2, time.Hour)
	st, err := redisstore.Open(context.Background(), redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A serve worker is polling source 0: it holds the source's lease (poll.Scheduler.pollOne).
	leased := srv.URL + "/f/0.xml"
	if ok, err := st.Claim(context.Background(), "poll:"+leased, "serve-worker-1", time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	out, code := runCmd(t, "poll", "-config", cfg, "-store", redisURL)
	if code != 0 {
		t.Fatalf("poll exit %d: %s", code, out)
	}
	if n := len(polls.snapshot()[0]); n != 0 {
		t.Errorf("poll fetched %s %d time(s) while a serve worker held its lease (output: %q)", leased, n, out)
	}
	if n := len(polls.snapshot()[1]); n != 1 {
		t.Errorf("unleased source fetched %d times, want 1", n)
	}
	if !strings.Contains(out, "BUSY") || !strings.Contains(out, "0 failing, 1 left to the process polling them") {
		t.Errorf("poll output does not say it left the leased source alone:\n%s", out)
	}
	// Its own leases are given back: a worker can claim them right after.
	if ok, err := st.Claim(context.Background(), "poll:"+srv.URL+"/f/1.xml", "serve-worker-1", time.Minute); err != nil || !ok {
		t.Errorf("claim after poll: %v %v: poll kept its lease", ok, err)
	}
}
