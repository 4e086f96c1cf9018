package identity

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestFoldMatchesTransform checks that fold's table gives, rune by rune and for
// strings of mixed runes, what the Unicode transformers give.
func TestFoldMatchesTransform(t *testing.T) {
	var runes []rune
	for _, b := range foldBlocks {
		for r := b.lo; r < b.hi; r++ {
			runes = append(runes, r)
		}
	}
	for _, rg := range [][2]rune{{0x3400, 0x4DC0}, {0x4E00, 0xA000}} {
		for r := rg[0]; r < rg[1]; r++ {
			runes = append(runes, r)
		}
	}
	bad := 0
	for _, r := range runes {
		if got, want := Fold(string(r)), foldSlow(string(r)); got != want && bad < 10 {
			bad++
			t.Errorf("fold(%U) = %q, transformers give %q", r, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pool := append(slices.Clone(runes), []rune("aeiouAEIOU  .,'-\u0301\u0308\u0327\u05b8\u0e31\u3099\u3099\uac00\u11a8\u212b\u0345\u0915\u093e\u0940\ufb2a\u0130\u1e9e\u00df")...)
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			b.WriteRune(pool[rng.IntN(len(pool))])
		}
		s := b.String()
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Fatalf("fold(%+q) = %+q, transformers give %+q", s, got, want)
		}
	}
}

func TestIsCJK(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := isCJK(r), unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai); got != want {
			t.Fatalf("isCJK(%U) = %v, want %v", r, got, want)
		}
	}
}

// tokensRef is the tokeniser Sign had before token hashing: fold through the
// transformers, then split into words and CJK characters.
func tokensRef(s string) []string {
	s = foldSlow(s)
	var toks []string
	start := -1
	for i, r := range s {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai):
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

// refHashes hashes tokensRef's tokens the way tokenHashes does.
func refHashes(title, text string) []uint64 {
	var hs []uint64
	for _, tok := range tokensRef(title + "\n" + text) {
		var w word
		for _, r := range tok {
			w = w.add(r)
		}
		hs = w.end(hs)
	}
	return hs
}

func checkTokens(t *testing.T, title, text string) {
	t.Helper()
	got, want := tokenHashes(nil, title, text), refHashes(title, text)
	if !slices.Equal(got, want) {
		t.Errorf("tokenHashes(%+q, %+q): %d tokens, reference tokeniser %d %q", title, text, len(got), len(want), tokensRef(title+"\n"+text))
	}
}

func TestTokensMatchReference(t *testing.T) {
	l := loadLabelled(t)
	for _, st := range l.Stories {
		checkTokens(t, st.Title, st.Text)
	}
	for _, s := range tokenSeeds {
		checkTokens(t, s, s)
	}
}

var tokenSeeds = []string{
	"", "Été à Genève", "E\u0301te\u0301 d'étude", "ISS—SSI’s “news”", "国際養子縁組に関する新しいガイドライン",
	"ガイドラインについて", "การคุ้มครองเด็ก", "한국 입양", "हिन्दी समाचार", "שירות סוציאלי בינלאומי",
	"Ἀθῆναι ΣΟΦΙΑ", "Ｆｕｌｌｗｉｄｔｈ　ＩＳＳ", "ÅNGSTRÖM \u212b", "bad \xff utf-8", "Straße İstanbul",
}

func FuzzTokens(f *testing.F) {
	for _, s := range tokenSeeds {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, text string) {
		checkTokens(t, title, text)
	})
}
