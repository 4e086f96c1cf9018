package clean

import (
	"strings"
	"unicode"

	"github.com/abadojack/whatlanggo"

	"github.com/iss-network/networkfeed/internal/config"
)

// networkLangs are the languages member organisations publish in; detection never
// answers anything else.
var networkLangs = map[whatlanggo.Lang]bool{
	whatlanggo.Eng: true, whatlanggo.Fra: true, whatlanggo.Spa: true, whatlanggo.Deu: true,
	whatlanggo.Nld: true, whatlanggo.Pol: true, whatlanggo.Bul: true, whatlanggo.Ell: true,
	whatlanggo.Heb: true, whatlanggo.Jpn: true, whatlanggo.Cmn: true, whatlanggo.Por: true,
	whatlanggo.Ron: true, whatlanggo.Arb: true,
}

// minLetters is how much text detection needs: letters, with CJK characters
// (each about a word) counting three.
const minLetters = 40

// Language settles an item's language as a base BCP 47 tag ("en", "fr", "he"):
//
//   - tagged (from the item, feed or page: "en-US", "fr_FR", "iw", "EN") wins when it
//     parses, normalised with golang.org/x/text/language to its base language;
//   - else the language is detected from text with whatlanggo, restricted to the
//     network's languages (en fr es de nl pl bg el he ja zh pt ro ar), when there is
//     enough text and the detection is reliable. For scripts where the restriction
//     leaves one candidate (Cyrillic: bg, Hebrew: he, Arabic: ar) the unrestricted
//     detector must agree, so Russian is never called Bulgarian;
//   - else fallback.
func Language(tagged, text string, fallback string) string {
	if l := normaliseTag(tagged); l != "" {
		return l
	}
	if l := detect(text); l != "" {
		return l
	}
	return normaliseTag(fallback)
}

// normaliseTag returns the base language of a tag, or "" when it has none. Lists
// ("en, fr") take their first tag.
func normaliseTag(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ",; "); i >= 0 {
		s = s[:i]
	}
	return config.BaseLanguage(s)
}

func detect(text string) string {
	letters, kana, han := 0, 0, 0
	for _, r := range text {
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
			letters += 3
		case unicode.Is(unicode.Han, r):
			han++
			letters += 3
		case unicode.IsLetter(r):
			letters++
		}
	}
	if letters < minLetters {
		return ""
	}
	restricted := whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: networkLangs})
	if restricted.Lang < 0 || !networkLangs[restricted.Lang] || !restricted.IsReliable() {
		return ""
	}
	switch {
	case restricted.Lang == whatlanggo.Cmn || restricted.Lang == whatlanggo.Jpn:
		// Chinese text never holds kana; Japanese text is often more kanji than kana.
		switch {
		case kana == 0:
			return "zh"
		case kana*20 >= kana+han:
			return "ja"
		default:
			return ""
		}
	case restricted.Script == unicode.Latin || restricted.Script == unicode.Greek:
		// Several network languages share the Latin script, so the restricted
		// confidence means something; Greek has only one language.
	default:
		if un := whatlanggo.Detect(text); un.Lang != restricted.Lang || !un.IsReliable() {
			return ""
		}
	}
	return restricted.Lang.Iso6391()
}
