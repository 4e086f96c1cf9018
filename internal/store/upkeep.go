package store

import (
	"sync/atomic"
	"time"
)

// UpkeepEvery is how often one process runs a store's upkeep after a Trim (expiring
// tombstones, and on Redis sweeping old filings out of the story-key lists).
const UpkeepEvery = time.Minute

// Upkeep lets a store's periodic clean-up run at most once every UpkeepEvery per
// process, by the clock its caller passes (Trim's now), in whichever goroutine asks first.
type Upkeep struct{ last atomic.Int64 }

// Due reports whether UpkeepEvery has passed since the last run, and if so marks now as
// the last run.
func (u *Upkeep) Due(now time.Time) bool {
	last := u.last.Load()
	return now.UnixNano()-last >= int64(UpkeepEvery) && u.last.CompareAndSwap(last, now.UnixNano())
}
