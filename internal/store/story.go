package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/iss-network/networkfeed/internal/identity"
	"github.com/iss-network/networkfeed/internal/news"
)

// Story is what a cluster decision needs of an item: who published it and when, its
// canonical link, language and MinHash signature. A backend records it beside the
// item when the item is inserted (and again when the item's date moves), so deciding
// a new item's cluster reads a few hundred bytes per candidate instead of decoding
// and re-signing whole stored items.
type Story struct {
	ID        string
	Member    string
	Language  string
	Link      string // canonical link (Link when Canonical is empty), "" when none
	Time      int64  // SortTime, Unix milliseconds
	FirstSeen int64  // Unix milliseconds
	Sig       identity.Signature
}

// StoryOf signs it and returns its story.
func StoryOf(it *news.Item) Story {
	st := Story{Sig: Signature(it)}
	st.Redate(it)
	return st
}

// Redate refreshes the fields of st that change when it is updated in place (all but
// the signature, which only a new insert computes).
func (st *Story) Redate(it *news.Item) {
	st.ID, st.Member, st.Language, st.Link = it.ID, it.Member, it.Language, canonicalLink(it)
	st.Time, st.FirstSeen = it.SortTime().UnixMilli(), it.FirstSeen.UnixMilli()
}

// Entry is the story's cluster entry.
func (st *Story) Entry() ClusterEntry {
	return ClusterEntry{ID: st.ID, Member: st.Member, Time: st.Time, FirstSeen: st.FirstSeen}
}

// Keys returns the story's 8-byte index keys: a hash of its canonical link when it
// has one, then a hash of each of its band keys when it has words.
func (st *Story) Keys() [][]byte {
	var out [][]byte
	if st.Link != "" {
		out = append(out, storyKey("u\x00"+st.Link))
	}
	for _, b := range st.Sig.Bands(st.Language) {
		out = append(out, storyKey("b\x00"+b))
	}
	return out
}

// sameStory is identity.SameStory on recorded stories.
func sameStory(a, b *Story) bool {
	if a.Link != "" && a.Link == b.Link {
		return true
	}
	return strings.EqualFold(a.Language, b.Language) && a.Sig.Similarity(b.Sig) >= identity.Threshold
}

// storyVersion is the first byte of an encoded story.
const storyVersion = 1

// AppendBinary appends the story's encoding to b: a version byte, the times, the four
// strings (uvarint length, bytes) and the signature (NumHashes little-endian uint32s).
func (st *Story) AppendBinary(b []byte) []byte {
	b = append(b, storyVersion)
	b = binary.AppendVarint(b, st.Time)
	b = binary.AppendVarint(b, st.FirstSeen)
	for _, s := range []string{st.ID, st.Member, st.Language, st.Link} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, v := range st.Sig {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

var errBadStory = errors.New("malformed story record")

// ParseStory decodes a story written by AppendBinary.
func ParseStory(b []byte) (Story, error) {
	var st Story
	if len(b) == 0 || b[0] != storyVersion {
		return st, fmt.Errorf("decode story: %w", errBadStory)
	}
	b = b[1:]
	for _, p := range []*int64{&st.Time, &st.FirstSeen} {
		v, n := binary.Varint(b)
		if n <= 0 {
			return st, fmt.Errorf("decode story: %w", errBadStory)
		}
		*p, b = v, b[n:]
	}
	for _, p := range []*string{&st.ID, &st.Member, &st.Language, &st.Link} {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return st, fmt.Errorf("decode story: %w", errBadStory)
		}
		*p, b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	if len(b) != 4*identity.NumHashes {
		return st, fmt.Errorf("decode story %s: %w", st.ID, errBadStory)
	}
	for i := range st.Sig {
		st.Sig[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return st, nil
}

// AppendEntries appends the binary encoding of a cluster's entries to b: a version
// byte, then per entry its times (varints) and its ID and member (uvarint length,
// bytes). It is several times faster to read than JSON, and a cluster is read for
// every candidate of every new item.
func AppendEntries(b []byte, es []ClusterEntry) []byte {
	b = append(b, entriesVersion)
	for _, e := range es {
		b = binary.AppendVarint(b, e.Time)
		b = binary.AppendVarint(b, e.FirstSeen)
		b = binary.AppendUvarint(b, uint64(len(e.ID)))
		b = append(b, e.ID...)
		b = binary.AppendUvarint(b, uint64(len(e.Member)))
		b = append(b, e.Member...)
	}
	return b
}

// entriesVersion is the first byte of encoded entries (never '[', which starts the
// JSON that earlier versions wrote).
const entriesVersion = 1

// IsEntries reports whether b was written by AppendEntries.
func IsEntries(b []byte) bool { return len(b) > 0 && b[0] == entriesVersion }

// ParseEntries decodes entries written by AppendEntries.
func ParseEntries(b []byte) ([]ClusterEntry, error) {
	if !IsEntries(b) {
		return nil, fmt.Errorf("decode cluster: %w", errBadStory)
	}
	b = b[1:]
	var es []ClusterEntry
	for len(b) > 0 {
		var e ClusterEntry
		for _, p := range []*int64{&e.Time, &e.FirstSeen} {
			v, n := binary.Varint(b)
			if n <= 0 {
				return nil, fmt.Errorf("decode cluster: %w", errBadStory)
			}
			*p, b = v, b[n:]
		}
		for _, p := range []*string{&e.ID, &e.Member} {
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return nil, fmt.Errorf("decode cluster: %w", errBadStory)
			}
			*p, b = string(b[n:n+int(l)]), b[n+int(l):]
		}
		es = append(es, e)
	}
	return es, nil
}

// StoryFirstSeen reads just the first-seen time of an encoded story (what choosing
// the newest stories needs), without decoding the rest.
func StoryFirstSeen(b []byte) (int64, error) {
	if len(b) == 0 || b[0] != storyVersion {
		return 0, fmt.Errorf("decode story: %w", errBadStory)
	}
	_, n := binary.Varint(b[1:])
	if n <= 0 {
		return 0, fmt.Errorf("decode story: %w", errBadStory)
	}
	fs, m := binary.Varint(b[1+n:])
	if m <= 0 {
		return 0, fmt.Errorf("decode story: %w", errBadStory)
	}
	return fs, nil
}
