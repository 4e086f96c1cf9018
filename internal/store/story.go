package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"

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
	Link      string // canonical link (Link when Canonical is empty), "" when none or shared (see Redate)
	Time      int64  // SortTime, Unix milliseconds
	FirstSeen int64  // Unix milliseconds
	Marks     uint64 // identity.TitleMarks of its title
	Sig       identity.Signature
}

// StoryOf signs it and returns its story.
func StoryOf(it *news.Item) Story {
	st := Story{Sig: Signature(it)}
	st.Redate(it)
	return st
}

// Redate refreshes the fields of st that change when it is updated in place (all but
// the signature, which only a new insert computes). An item whose link its source
// gave other items too (identity.SharedLinkKey: a feed linking every item to the
// member's news page) has no story link: that link names no story, and any other
// member's item linking to that page (a "visit our partners" post) was taken for
// a copy of one of them.
func (st *Story) Redate(it *news.Item) {
	st.ID, st.Member, st.Language, st.Link = it.ID, it.Member, it.Language, canonicalLink(it)
	if identity.SharedLinkKey(it.Key) {
		st.Link = ""
	}
	st.Time, st.FirstSeen = it.SortTime().UnixMilli(), it.FirstSeen.UnixMilli()
	st.Marks = identity.TitleMarks(it.Title)
}

// Entry is the story's cluster entry.
func (st *Story) Entry() ClusterEntry {
	return ClusterEntry{ID: st.ID, Member: st.Member, Time: st.Time, FirstSeen: st.FirstSeen}
}

// Keys returns the story's 8-byte index keys: a hash of its canonical link when it
// has one, then a hash of each of its band keys when it has words.
func (st *Story) Keys() [][]byte {
	bands := st.Sig.Bands(st.Language)
	n := len(bands)
	if st.Link != "" {
		n++
	}
	// One backing array for all the keys: a new item's keys are made on every insert.
	buf := make([]byte, 0, 8*n)
	out := make([][]byte, 0, n)
	add := func(kind byte, s string) {
		h := fnv.New64a() // stays on the stack: no allocation
		h.Write([]byte{kind, 0})
		h.Write([]byte(s))
		buf = binary.BigEndian.AppendUint64(buf, h.Sum64())
		out = append(out, buf[len(buf)-8:len(buf):len(buf)])
	}
	if st.Link != "" {
		add('u', st.Link)
	}
	for _, b := range bands {
		add('b', b)
	}
	return out
}

// sameStory is identity.SameStory on recorded stories.
func sameStory(a, b *Story) bool {
	return identity.Alike(a.told(), b.told())
}

func (st *Story) told() identity.Told {
	return identity.Told{Link: st.Link, Language: st.Language, Sig: st.Sig, Marks: st.Marks}
}

// storyVersion is the first byte of an encoded story. Version 1, written before titles'
// marks were kept, has none: such a story is told apart by nothing but its words.
const (
	storyVersion   = 2
	storyVersionV1 = 1
)

// AppendBinary appends the story's encoding to b: a version byte, the times (varints),
// the four strings (uvarint length, bytes), the title's marks (uvarint) and the
// signature (identity's encoding).
func (st *Story) AppendBinary(b []byte) []byte {
	b = append(b, storyVersion)
	b = binary.AppendVarint(b, st.Time)
	b = binary.AppendVarint(b, st.FirstSeen)
	for _, s := range []string{st.ID, st.Member, st.Language, st.Link} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, st.Marks)
	return st.Sig.AppendBinary(b)
}

var errBadStory = errors.New("malformed story record")

// ParseStory decodes a story written by AppendBinary (or by an earlier version).
func ParseStory(b []byte) (Story, error) {
	var st Story
	d, ok := newStoryDecoder(b)
	st.Time, st.FirstSeen = d.varint(), d.varint()
	st.ID, st.Member, st.Language, st.Link = d.string(), d.string(), d.string(), d.string()
	if ok && b[0] == storyVersion {
		st.Marks = d.uvarint()
	}
	if !ok || d.bad || len(d.b) != identity.SignatureSize {
		return st, fmt.Errorf("decode story %s: %w", st.ID, errBadStory)
	}
	st.Sig, _ = identity.ParseSignature(d.b) // of the right size: cannot fail
	return st, nil
}

// StoryFirstSeen reads just the first-seen time of an encoded story (what choosing
// the newest stories needs), without decoding the rest.
func StoryFirstSeen(b []byte) (int64, error) {
	d, ok := newStoryDecoder(b)
	d.varint()
	fs := d.varint()
	if !ok || d.bad {
		return 0, fmt.Errorf("decode story: %w", errBadStory)
	}
	return fs, nil
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
		b = appendString(b, e.ID)
		b = appendString(b, e.Member)
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
	d, ok := newDecoder(b, entriesVersion)
	var es []ClusterEntry
	for ok && !d.bad && len(d.b) > 0 {
		es = append(es, ClusterEntry{Time: d.varint(), FirstSeen: d.varint(), ID: d.string(), Member: d.string()})
	}
	if !ok || d.bad {
		return nil, fmt.Errorf("decode cluster: %w", errBadStory)
	}
	return es, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decoder reads the values the encodings above write; bad says one did not fit.
type decoder struct {
	b   []byte
	bad bool
}

// newDecoder starts decoding b, whose first byte must be version.
func newDecoder(b []byte, version byte) (*decoder, bool) {
	if len(b) == 0 || b[0] != version {
		return &decoder{bad: true}, false
	}
	return &decoder{b: b[1:]}, true
}

// newStoryDecoder starts decoding an encoded story of this version or version 1.
func newStoryDecoder(b []byte) (*decoder, bool) {
	if len(b) > 0 && b[0] == storyVersionV1 {
		return newDecoder(b, storyVersionV1)
	}
	return newDecoder(b, storyVersion)
}

func (d *decoder) uvarint() uint64 { return number(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return number(d, binary.Varint) }

// number reads a number with read (binary.Varint or Uvarint).
func number[T int64 | uint64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	l, n := binary.Uvarint(d.b)
	if n <= 0 || uint64(len(d.b)-n) < l {
		d.bad, d.b = true, nil
		return ""
	}
	s := string(d.b[n : n+int(l)])
	d.b = d.b[n+int(l):]
	return s
}
