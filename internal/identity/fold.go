package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lower-cases s and removes combining marks after canonical decomposition
// ("Été" -> "ete"), for matching stories and for search in any language. It keeps the
// marks of scripts where they are letters' vowels only as far as Unicode calls them
// Mn; that is fine for matching.
//
// ASCII text is only lower-cased, and text whose every rune is in the fold table
// (Latin, Greek, Cyrillic, Hebrew, Thai, punctuation, kana, Han, full-width forms) is
// folded rune by rune; anything else goes through the x/text transformers. All three
// give the same result (TestFoldMatchesTransform).
func Fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		f, c := foldRune(r)
		switch c {
		case clsFallback:
			return foldSlow(s)
		case clsDrop:
		default:
			b.WriteRune(f)
		}
	}
	return b.String()
}

// foldSlow is fold through the Unicode transformers: NFD, remove Mn, NFC, lower case.
func foldSlow(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Rune classes for folding and tokenising: what a rune becomes in folded text.
const (
	clsFallback uint8 = iota // not in the table: fold the whole text with foldSlow
	clsSep                   // kept, separates words
	clsWord                  // kept, part of a word (letter, number, Mc)
	clsCJK                   // kept, a word of its own (Han, kana, Thai)
	clsDrop                  // removed (Mn)
)

// foldEntry is what a rune folds to, and the class of the folded rune.
type foldEntry struct {
	r   rune
	cls uint8
}

// foldBlock is a range of runes that fold one by one: no rune in it decomposes into
// anything but a starter and Mn marks, and no kept rune composes with its left
// neighbour, so folding a string of them is folding each rune.
type foldBlock struct {
	lo, hi rune // [lo, hi)
	tab    []foldEntry
}

var foldBlocks = func() []foldBlock {
	bs := []foldBlock{
		{lo: 0x0080, hi: 0x0600}, // Latin-1, Latin Extended, IPA, Greek, Cyrillic, Armenian, Hebrew
		{lo: 0x0E00, hi: 0x0E80}, // Thai
		{lo: 0x2000, hi: 0x2070}, // general punctuation
		{lo: 0x3000, hi: 0x3100}, // CJK punctuation, hiragana, katakana
		{lo: 0xFF00, hi: 0xFFF0}, // half- and full-width forms
		{lo: 0x0600, hi: 0x0700}, // Arabic
		{lo: 0x1E00, hi: 0x1F00}, // Latin Extended Additional (Vietnamese)
	}
	for i := range bs {
		b := &bs[i]
		b.tab = make([]foldEntry, b.hi-b.lo)
		for r := b.lo; r < b.hi; r++ {
			b.tab[r-b.lo] = foldEntryOf(r)
		}
	}
	return bs
}()

// foldEntryOf works out how r folds from its Unicode properties; r's fold table
// entry.
func foldEntryOf(r rune) foldEntry {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	d := norm.NFD.Properties(buf[:n]).Decomposition()
	if len(d) == 0 {
		d = buf[:n]
	}
	base, size := utf8.DecodeRune(d)
	for _, m := range string(d[size:]) {
		if !unicode.Is(unicode.Mn, m) {
			return foldEntry{}
		}
	}
	if unicode.Is(unicode.Mn, base) {
		if len(d) > size && !unicode.Is(unicode.Mn, r) {
			return foldEntry{}
		}
		return foldEntry{cls: clsDrop}
	}
	var bb [utf8.UTFMax]byte
	bn := utf8.EncodeRune(bb[:], base)
	if p := norm.NFC.Properties(bb[:bn]); p.CCC() != 0 || !p.BoundaryBefore() {
		return foldEntry{}
	}
	lo := unicode.ToLower(base)
	return foldEntry{r: lo, cls: classOf(lo)}
}

// classOf classifies a folded rune for tokens.
func classOf(r rune) uint8 {
	switch {
	case isCJK(r):
		return clsCJK
	case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r):
		return clsWord
	default:
		return clsSep
	}
}

// foldRune returns what the non-ASCII rune r folds to and its class, or clsFallback
// when r is outside the fold table.
func foldRune(r rune) (rune, uint8) {
	if r >= 0x4E00 && r < 0xA000 || r >= 0x3400 && r < 0x4DC0 { // CJK unified ideographs
		return r, clsCJK
	}
	for i := range foldBlocks {
		if b := &foldBlocks[i]; r >= b.lo && r < b.hi {
			e := b.tab[r-b.lo]
			return e.r, e.cls
		}
	}
	return 0, clsFallback
}

// isCJK reports whether r is written without spaces between words, so that each
// character is a token of its own.
func isCJK(r rune) bool {
	switch {
	case r < 0x0E00:
		return false
	case r < 0x0E80:
		return unicode.Is(unicode.Thai, r)
	case r < 0x2E80:
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}
