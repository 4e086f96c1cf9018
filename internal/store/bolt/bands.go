package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/iss-network/networkfeed/internal/store"
)

// bBandLog is the append-only log of story-key filings not yet folded into bBands:
// sequence(8) -> uvarint(len id) id key(8)... Appending touches the file's last pages
// only, where filing 33 random keys per item in bBands would dirty (and rewrite at
// every commit) a page per key. The log is mirrored in memory (bandBuffer) and folded
// into bBands, in key order, once it holds foldAt items.
var bBandLog = []byte("bandlog")

// defaultFoldAt is how many items the band log holds before it is folded into bBands.
const defaultFoldAt = 4096

// bandBuffer is the in-memory mirror of bBandLog: for each story key, the IDs filed
// under it since the last fold, oldest first. Only writes, run one at a time by the writer goroutine, change it.
type bandBuffer struct {
	ids   map[uint64][]string
	items int // filings (items) in the log
}

func keyOf(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

// bandIDs returns the IDs filed under story key k, newest first, at most
// store.BandDepth: the buffered ones, then (withPrev) those of the buffer folded last,
// then those folded into bBands (disk, as read from the index: before the last fold
// when withPrev).
func (s *Store) bandIDs(k []byte, disk []string, withPrev bool) []string {
	var out []string
	for _, b := range []*bandBuffer{&s.bands, &s.prevBands} {
		if b == &s.prevBands && !withPrev {
			break
		}
		buf := b.ids[keyOf(k)]
		for i := len(buf) - 1; i >= 0 && len(out) < store.BandDepth; i-- {
			out = append(out, buf[i])
		}
	}
	for _, id := range disk {
		if len(out) == store.BandDepth {
			break
		}
		out = append(out, id)
	}
	return out
}

// foldedIDs reads the IDs folded into bBands under k (c is a cursor of bBands).
func foldedIDs(c *bbolt.Cursor, k []byte) []string {
	return store.UnpackIDs(seekExact(c, k))
}

// seekExact returns the value of key k, or nil: Bucket.Get without a new cursor.
func seekExact(c *bbolt.Cursor, k []byte) []byte {
	if fk, v := c.Seek(k); bytes.Equal(fk, k) {
		return v
	}
	return nil
}

// fileBands files id under keys: an append to the log and to its mirror.
func (s *Store) fileBands(tx *bbolt.Tx, id string, keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	lb := tx.Bucket(bBandLog)
	seq, err := lb.NextSequence()
	if err != nil {
		return err
	}
	v := make([]byte, 0, binary.MaxVarintLen64+len(id)+8*len(keys))
	v = binary.AppendUvarint(v, uint64(len(id)))
	v = append(v, id...)
	for _, k := range keys {
		v = append(v, k...)
	}
	if err := lb.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
		return err
	}
	s.bands.add(id, keys)
	return nil
}

func (b *bandBuffer) add(id string, keys [][]byte) {
	if b.ids == nil {
		b.ids = map[uint64][]string{}
	}
	for _, k := range keys {
		b.ids[keyOf(k)] = append(b.ids[keyOf(k)], id)
	}
	b.items++
}

// foldBands moves the buffered filings into bBands, key by key in key order (each
// key's packed list gets the buffered IDs pushed oldest first, so it ends as if they
// had been filed one by one), and empties the log.
func (s *Store) foldBands(tx *bbolt.Tx) error {
	keys := make([]uint64, 0, len(s.bands.ids))
	for k := range s.bands.ids {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	bands := tx.Bucket(bBands)
	var kb [8]byte
	for _, k := range keys {
		binary.BigEndian.PutUint64(kb[:], k)
		v := bands.Get(kb[:]) // Put invalidates cursors: a fresh one per key
		for _, id := range s.bands.ids[k] {
			v = store.PushID(v, id)
		}
		if err := bands.Put(kb[:], v); err != nil {
			return err
		}
	}
	if err := tx.DeleteBucket(bBandLog); err != nil {
		return fmt.Errorf("empty band log: %w", err)
	}
	if _, err := tx.CreateBucket(bBandLog); err != nil {
		return fmt.Errorf("empty band log: %w", err)
	}
	// A reading of bBands taken before this fold, with the buffer just folded, is still
	// as good as a reading after it.
	s.prevBands, s.bands = s.bands, bandBuffer{}
	s.prevFoldTx.Store(s.foldTx.Load())
	s.foldTx.Store(uint64(tx.ID()))
	return nil
}

// loadBands rebuilds the in-memory mirror from the committed log.
func (s *Store) loadBands() error {
	var b bandBuffer
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bBandLog).ForEach(func(seq, v []byte) error {
			n, w := binary.Uvarint(v)
			if w <= 0 || uint64(len(v)-w) < n || (uint64(len(v)-w)-n)%8 != 0 {
				return fmt.Errorf("decode band log entry %x: bad length", seq)
			}
			id := string(v[w : w+int(n)])
			var keys [][]byte
			for rest := v[w+int(n):]; len(rest) > 0; rest = rest[8:] {
				keys = append(keys, rest[:8])
			}
			b.add(id, keys)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("load band log: %w", err)
	}
	s.bands = b
	// The buffer folded last may have been rolled back with the fold: readings taken
	// before the last fold are read again.
	s.prevBands = bandBuffer{}
	s.prevFoldTx.Store(s.foldTx.Load())
	return nil
}
