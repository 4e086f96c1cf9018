package bolt

import (
	"time"

	bbolt "go.etcd.io/bbolt"
)

// The process's resident memory counts every page of the store's file it has mapped,
// and bbolt reads the file through one mapping. Opening a store reads its whole story
// log to fill the story-key index: at 195,000 items, 140 MB of the file, which stayed
// mapped, and so in the RSS of a `serve` that had done nothing yet. Those pages are the
// kernel's cache of the file, not the process's memory, but they count in its RSS, in
// its out-of-memory score and in every monitor that reads either: Open lets go of them
// (Store.release). A page read again is mapped again from the page cache, without
// reading the disk.
//
// A running store maps more of the file as it is read (each poll's reads, the web
// view's, fault-around mapping the neighbours of each page read): a serve's RSS climbed
// to the size of its file. The store lets go of the mapped pages again every
// releaseEvery (Store.releaser). Letting go after each commit instead was tried
// (BENCHMARKS.md, session 17): a first poll of 10,000 fleet feeds peaked at 366–398 MB
// instead of 571–600 MB, every commit faulting in again the pages the one before had
// mapped, at a cost in time five pairs of runs could not tell from noise (−6 to +7%);
// that peak still being far above the process's own memory, the time was kept. Once a
// minute costs nothing measurable.

// releaseEvery is how often a store lets go of the pages of its file it has mapped
// (a variable for tests).
var releaseEvery = time.Minute

// releaser lets go of the mapped pages every releaseEvery until Close.
func (s *Store) releaser() {
	defer close(s.releaserDone)
	if !releaseMapped {
		return
	}
	t := time.NewTicker(releaseEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.release()
		case <-s.closed:
			return
		}
	}
}

// release unmaps the pages of the file the process has mapped, keeping them in the
// page cache. It holds a read transaction meanwhile: bbolt remaps the file only when
// no transaction is open, so the mapping released is the one in use. Transactions
// reading the file meanwhile are unaffected: the mapping is read-only and bbolt never
// rewrites a page an open transaction can reach, so a page faulted in again holds what
// it held.
func (s *Store) release() {
	if !releaseMapped {
		return
	}
	_ = s.db.View(func(tx *bbolt.Tx) error {
		dropMapped(s.db.Info().Data, uintptr(tx.Size()))
		return nil
	})
}
