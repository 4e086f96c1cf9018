package bolt

import bbolt "go.etcd.io/bbolt"

// The process's resident memory counts every page of the store's file it has mapped,
// and bbolt reads the file through one mapping. Opening a store reads its whole story
// log to fill the story-key index: at 195,000 items, 140 MB of the file, which stayed
// mapped, and so in the RSS of a `serve` that had done nothing yet. Those pages are the
// kernel's cache of the file, not the process's memory, but they count in its RSS, in
// its out-of-memory score and in every monitor that reads either: Open lets go of them
// (Store.release). A page read again is mapped again from the page cache, without
// reading the disk.
//
// Letting go after each commit too was tried (BENCHMARKS.md, session 17): a poll of
// 10,000 fleet feeds peaked at 366–398 MB instead of 571–600 MB, but took 5% longer,
// every commit faulting in again the pages the one before had mapped.

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
