package identity

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/iss-network/networkfeed/internal/news"
)

// Signature parameters: 96 MinHash values split into 32 LSH bands of 3 rows. Two
// items become candidates when all 3 values of at least one band agree, which happens
// with probability 1-(1-s^3)^32 for Jaccard similarity s:
//
//	s     0.10  0.25  0.30  0.375 0.45  0.50  0.60
//	P     0.03  0.40  0.58  0.82  0.95  0.99  1.00
//
// The S-curve's midpoint, (1/32)^(1/3) = 0.31, sits below Threshold so that nearly
// every pair Threshold accepts is found through the bands, while unrelated stories
// (s < 0.1) rarely cost a comparison. 96 hashes give the similarity estimate a
// standard error of about 0.05 near the threshold (64 would give 0.06, and with 16
// bands of 4 rows only half the pairs at s = 0.45 would ever be compared).
const (
	NumHashes = 96
	NumBands  = 32
	BandRows  = NumHashes / NumBands
)

// Threshold is the estimated Jaccard similarity of word 3-shingles at or above which
// two items of one language are the same story.
//
// It is lower than the 0.6-0.7 often quoted for near-duplicate pages because items
// are short: a summary of about 400 runes has 50-70 shingles, so a republisher's new
// first sentence and new title alone change a third of them. Measured on the labelled
// pairs in testdata/stories.yaml (exact Jaccard, from 256 hashes): the same
// announcement with another first sentence (and often another title) scores
// 0.46-0.74; different news of one organisation scores at most 0.25, even when two
// event announcements share a template; translations score 0 because the language is
// hashed into every shingle. 0.375 (36 of 96 values) sits between the two groups,
// a little nearer the duplicates: a false merge hides a member's story inside another
// member's, a missed merge only shows it twice.
const Threshold = 0.375

// Signature is the MinHash of an item's shingles.
type Signature [NumHashes]uint32

// seeds are NumHashes fixed, well-mixed constants (splitmix64 from 0x5eed): a
// signature must mean the same in every process and every version that shares a store.
var seeds = func() [NumHashes]uint64 {
	var s [NumHashes]uint64
	x := uint64(0x5eed)
	for i := range s {
		x += 0x9e3779b97f4a7c15
		s[i] = mix(x)
	}
	return s
}()

// mix is the splitmix64 finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Sign computes the signature of an item from its language, title and text (the
// plain-text summary). Text is lower-cased and accent-folded, split into words, and
// hashed as word 3-shingles; CJK text, written without spaces, gives one token per
// character and so character 3-grams. The language is hashed into every shingle, so
// a translation never resembles its original. An item with no words gets the empty
// signature, which resembles nothing.
// MinTokens is the least number of words (CJK: characters) title and text must have
// together for near-duplicate matching; below it Sign returns the empty signature.
const MinTokens = 8

func Sign(lang, title, text string) Signature {
	var sig Signature
	for i := range sig {
		sig[i] = math.MaxUint32
	}
	toks := tokens(title + "\n" + text)
	if len(toks) < MinTokens {
		// Too little text to tell a story from its neighbours ("Story of source 12" vs
		// "… 13" share most shingles): short items cluster only by canonical link.
		return sig
	}
	const k = 3
	n := len(toks) - k + 1
	if n < 1 {
		n = 1
	}
	h := fnv.New64a()
	for i := 0; i < n; i++ {
		h.Reset()
		h.Write([]byte(strings.ToLower(lang)))
		for j := i; j < i+k && j < len(toks); j++ {
			h.Write([]byte{0})
			h.Write([]byte(toks[j]))
		}
		x := h.Sum64()
		for j, s := range seeds {
			if v := uint32(mix(x^s) >> 32); v < sig[j] {
				sig[j] = v
			}
		}
	}
	return sig
}

// tokens splits folded text into words; each CJK character is a word of its own.
func tokens(s string) []string {
	s = fold(s)
	var toks []string
	start := -1
	for i, r := range s {
		switch {
		case isCJK(r):
			if start >= 0 {
				toks = append(toks, s[start:i])
				start = -1
			}
			toks = append(toks, string(r))
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				toks = append(toks, s[start:i])
				start = -1
			}
		}
	}
	if start >= 0 {
		toks = append(toks, s[start:])
	}
	return toks
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai)
}

// SignatureSize is the length of a signature's binary encoding: NumHashes
// little-endian uint32 values.
const SignatureSize = 4 * NumHashes

// AppendBinary appends the signature's fixed SignatureSize-byte encoding (each value
// little-endian, in order) to b and returns the extended slice.
func (s Signature) AppendBinary(b []byte) []byte {
	b = slices.Grow(b, SignatureSize)
	for _, v := range s {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// ParseSignature decodes a signature written by AppendBinary; b must be exactly
// SignatureSize bytes.
func ParseSignature(b []byte) (Signature, error) {
	var s Signature
	if len(b) != SignatureSize {
		return s, fmt.Errorf("parse signature: %d bytes, want %d", len(b), SignatureSize)
	}
	for i := range s {
		s[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return s, nil
}

// empty reports whether s is the signature of no words.
func (s Signature) empty() bool {
	return s[0] == math.MaxUint32 && s[1] == math.MaxUint32 && s[NumHashes-1] == math.MaxUint32
}

// Similarity estimates the Jaccard similarity of the shingle sets behind two
// signatures: the share of MinHash values they have in common. Empty signatures
// resemble nothing.
func (s Signature) Similarity(o Signature) float64 {
	if s.empty() || o.empty() {
		return 0
	}
	same := 0
	for i := range s {
		if s[i] == o[i] {
			same++
		}
	}
	return float64(same) / NumHashes
}

// Bands returns the LSH band keys of the signature, "lang:band:hash", one per band,
// for a store index: items that share a band key are candidates for SameStory, so
// finding them costs NumBands lookups. An empty signature has no bands.
func (s Signature) Bands(lang string) []string {
	if s.empty() {
		return nil
	}
	keys := make([]string, NumBands)
	var buf [4 * BandRows]byte
	for b := range NumBands {
		for r := range BandRows {
			binary.BigEndian.PutUint32(buf[4*r:], s[b*BandRows+r])
		}
		h := fnv.New64a()
		h.Write(buf[:])
		keys[b] = strings.ToLower(lang) + ":" + strconv.Itoa(b) + ":" + strconv.FormatUint(h.Sum64(), 16)
	}
	return keys
}

// SameStory reports whether a and b, with signatures sa and sb, tell the same story:
// they link to the same canonical page, or they are in the same language and their
// signatures are at least Threshold similar.
func SameStory(a, b news.Item, sa, sb Signature) bool {
	ca, cb := a.Canonical, b.Canonical
	if ca == "" {
		ca = Canonical(a.Link)
	}
	if cb == "" {
		cb = Canonical(b.Link)
	}
	if ca != "" && ca == cb {
		return true
	}
	return strings.EqualFold(a.Language, b.Language) && sa.Similarity(sb) >= Threshold
}
