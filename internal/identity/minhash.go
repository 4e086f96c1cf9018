package identity

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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

// perms are the NumHashes hash functions of the MinHash, h_i(x) = the high 32 bits of
// a_i*x + b_i (mod 2^64) with a_i odd: multiply-shift over a shingle hash x that is
// already well mixed. The constants come from splitmix64 seeded with 0x5eed: a
// signature must mean the same in every process and every version that shares a
// store.
var perms = func() (p [NumHashes]struct{ a, b uint64 }) {
	x := uint64(0x5eed)
	for i := range p {
		x += 0x9e3779b97f4a7c15
		p[i].a = mix(x) | 1
		x += 0x9e3779b97f4a7c15
		p[i].b = mix(x)
	}
	return p
}()

// mix is the splitmix64 finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// FNV-1a, 64 bits, over the runes of a folded token.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// MinTokens is the least number of words title and text must have together for
// near-duplicate matching; below it Sign returns the empty signature. Two CJK
// characters (tokens of their own) count as one word: a title of 8 characters is a
// title of three or four words ("年末年始休業のお知らせ", "Closed over the new year"), and
// two members' own notices of that title were taken for one story.
const MinTokens = 8

// shingleLen is the number of tokens in a shingle.
const shingleLen = 3

// Sign computes the signature of an item from its language, title and text (the
// plain-text summary). Text is lower-cased and accent-folded, split into words, and
// hashed as word 3-shingles; CJK text, written without spaces, gives one token per
// character and so character 3-grams. The language is hashed into every shingle, so
// a translation never resembles its original. An item with fewer than MinTokens
// words gets the empty signature, which resembles nothing.
//
// Sign allocates nothing for items of up to 512 tokens whose text is in the fold
// table (see fold).
func Sign(lang, title, text string) Signature {
	var buf [512]uint64
	toks := tokenHashes(buf[:0], title, text)
	if len(toks) < 2*MinTokens {
		if cjk := cjkRunes(title) + cjkRunes(text); len(toks)-cjk+cjk/2 < MinTokens {
			return emptySignature()
		}
	}
	return signTokens(langHash(lang), toks)
}

// cjkRunes counts the runes of s that are tokens of their own (isCJK).
func cjkRunes(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x0E00 && isCJK(r) {
			n++
		}
	}
	return n
}

// empty returns the signature of no words.
func emptySignature() Signature {
	var sig Signature
	for i := range sig {
		sig[i] = math.MaxUint32
	}
	return sig
}

// langHash hashes the lower-cased language tag.
func langHash(lang string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(lang); i++ {
		c := lang[i]
		if c >= utf8.RuneSelf {
			return langHashSlow(lang)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * fnvPrime
	}
	return mix(h)
}

func langHashSlow(lang string) uint64 {
	h := uint64(fnvOffset)
	for _, r := range strings.ToLower(lang) {
		h = (h ^ uint64(r)) * fnvPrime
	}
	return mix(h)
}

// signTokens computes the MinHash of the shingles of toks, hashes of folded tokens;
// it overwrites toks with the shingle hashes.
func signTokens(lang uint64, toks []uint64) Signature {
	sig := emptySignature()
	if len(toks) < MinTokens {
		// Too little text to tell a story from its neighbours ("Story of source 12" vs
		// "… 13" share most shingles): short items cluster only by canonical link.
		return sig
	}
	// Shingle i only reads tokens i to i+2, so its hash can take token i's place.
	xs := toks[:len(toks)-shingleLen+1]
	for i := range xs {
		xs[i] = shingleHash(lang, toks[i], toks[i+1], toks[i+2])
	}
	// One hash function at a time over every shingle: a_i, b_i and the minimum stay
	// in registers, and four independent minima keep the multiplier busy.
	for j := range perms {
		a, b := perms[j].a, perms[j].b
		m0, m1, m2, m3 := uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32)
		q := xs
		for ; len(q) >= 4; q = q[4:] {
			m0 = min(m0, uint32((a*q[0]+b)>>32))
			m1 = min(m1, uint32((a*q[1]+b)>>32))
			m2 = min(m2, uint32((a*q[2]+b)>>32))
			m3 = min(m3, uint32((a*q[3]+b)>>32))
		}
		for _, x := range q {
			m0 = min(m0, uint32((a*x+b)>>32))
		}
		sig[j] = min(m0, m1, m2, m3)
	}
	return sig
}

// shingleHash hashes a shingle of three token hashes in language lang; order matters.
func shingleHash(lang, t0, t1, t2 uint64) uint64 {
	return mix(lang ^ t0 ^ bits.RotateLeft64(t1, 21) ^ bits.RotateLeft64(t2, 42))
}

// tokenHashes appends to toks the hashes of the tokens of title and text, folded
// (see fold): words, and each CJK character a word of its own. The hash of a token is
// mix(FNV-1a over its folded runes).
func tokenHashes(toks []uint64, title, text string) []uint64 {
	out, ok := tokensFast(toks, title)
	if ok {
		out, ok = tokensFast(out, text)
	}
	if ok {
		return out
	}
	out = tokensFolded(toks[:0], Fold(title))
	return tokensFolded(out, Fold(text))
}

// word is the FNV-1a hash of the word being read, or 0 between words.
type word uint64

func (w word) add(r rune) word {
	h := uint64(w)
	if h == 0 {
		h = fnvOffset
	}
	return word((h ^ uint64(r)) * fnvPrime)
}

// end appends the hash of the word being read, if any, to toks.
func (w word) end(toks []uint64) []uint64 {
	if w != 0 {
		toks = append(toks, mix(uint64(w)))
	}
	return toks
}

// cjkToken is the hash of a CJK character, a token of its own.
func cjkToken(r rune) uint64 { return mix((fnvOffset ^ uint64(r)) * fnvPrime) }

// asciiFold is the folded form of each ASCII byte, or 0 for a separator.
var asciiFold = func() (f [utf8.RuneSelf]byte) {
	for c := range f {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			f[c] = byte(c)
		case 'A' <= c && c <= 'Z':
			f[c] = byte(c + 'a' - 'A')
		}
	}
	return f
}()

// tokensFast appends the token hashes of s, which is not folded, folding it through
// the fold table; it reports false when s has a rune outside the table.
func tokensFast(toks []uint64, s string) ([]uint64, bool) {
	var w word
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if f := asciiFold[c]; f != 0 {
				w = w.add(rune(f))
			} else {
				toks, w = w.end(toks), 0
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			return toks, false
		}
		f, cls := foldRune(r)
		switch cls {
		case clsFallback:
			return toks, false
		case clsWord:
			w = w.add(f)
		case clsCJK:
			toks, w = w.end(toks), 0
			toks = append(toks, cjkToken(f))
		case clsSep:
			toks, w = w.end(toks), 0
		}
	}
	return w.end(toks), true
}

// tokensFolded appends the token hashes of s, which is already folded.
func tokensFolded(toks []uint64, s string) []uint64 {
	var w word
	for _, r := range s {
		switch classOf(r) {
		case clsWord:
			w = w.add(r)
		case clsCJK:
			toks, w = w.end(toks), 0
			toks = append(toks, cjkToken(r))
		default:
			toks, w = w.end(toks), 0
		}
	}
	return w.end(toks)
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
	if !isASCII(lang) {
		lang = strings.ToLower(lang)
	}
	// All keys share one string: "lang:0:hex" at most len(lang)+2+1+16 bytes for
	// bands 0-9, one more for 10-31.
	var sb strings.Builder
	sb.Grow(NumBands * (len(lang) + 2 + 2 + 16))
	ends := [NumBands]int{}
	for b := range NumBands {
		h := uint64(fnvOffset)
		for r := range BandRows {
			v := s[b*BandRows+r]
			for _, c := range [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} {
				h = (h ^ uint64(c)) * fnvPrime
			}
		}
		for i := 0; i < len(lang); i++ {
			c := lang[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sb.WriteByte(c)
		}
		var buf [32]byte
		k := append(buf[:0], ':')
		k = strconv.AppendInt(k, int64(b), 10)
		k = append(k, ':')
		k = strconv.AppendUint(k, h, 16)
		sb.Write(k)
		ends[b] = sb.Len()
	}
	all := sb.String()
	keys := make([]string, NumBands)
	start := 0
	for b, end := range ends {
		keys[b] = all[start:end]
		start = end
	}
	return keys
}

// SameStory reports whether a and b, with signatures sa and sb, tell the same story:
// they link to the same canonical page, or they are in the same language, their
// signatures are at least Threshold similar and their titles are not two issues of a
// series (TitleMarks).
func SameStory(a, b news.Item, sa, sb Signature) bool {
	ca, cb := a.Canonical, b.Canonical
	if ca == "" {
		ca = Canonical(a.Link)
	}
	if cb == "" {
		cb = Canonical(b.Link)
	}
	return Alike(Told{ca, a.Language, sa, TitleMarks(a.Title)}, Told{cb, b.Language, sb, TitleMarks(b.Title)})
}

// Told is what SameStory's rule needs of an item, as a store records it.
type Told struct {
	Link     string // canonical link, "" for none
	Language string
	Sig      Signature
	Marks    uint64 // TitleMarks of its title
}

// Alike is SameStory's rule on what a store records of two items.
func Alike(a, b Told) bool {
	if a.Link != "" && a.Link == b.Link {
		return true
	}
	return strings.EqualFold(a.Language, b.Language) && !MarksDiffer(a.Marks, b.Marks) && a.Sig.Similarity(b.Sig) >= Threshold
}
