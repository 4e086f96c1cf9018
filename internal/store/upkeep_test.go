package store

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestUpkeepDueOncePerPeriod(t *testing.T) {
	var u Upkeep
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	if !u.Due(t0) {
		t.Fatal("first upkeep not due")
	}
	if u.Due(t0.Add(UpkeepEvery - time.Second)) {
		t.Error("due again within the period")
	}
	if !u.Due(t0.Add(UpkeepEvery)) {
		t.Error("not due once the period has passed")
	}
	// Many goroutines asking at once: exactly one runs it.
	var ran atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if u.Due(t0.Add(3 * UpkeepEvery)) {
				ran.Add(1)
			}
		})
	}
	wg.Wait()
	if ran.Load() != 1 {
		t.Errorf("%d goroutines ran the upkeep, want 1", ran.Load())
	}
}
