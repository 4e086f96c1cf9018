package page

import (
	"strings"
	"unicode"

	"github.com/abadojack/whatlanggo"
	"golang.org/x/text/language"
)

// networkLangs are the languages the ISS network publishes in; detection chooses among them only.
var networkLangs = map[whatlanggo.Lang]string{
	whatlanggo.Eng: "en", whatlanggo.Fra: "fr", whatlanggo.Spa: "es", whatlanggo.Deu: "de", whatlanggo.Nld: "nl",
	whatlanggo.Pol: "pl", whatlanggo.Bul: "bg", whatlanggo.Ell: "el", whatlanggo.Heb: "he", whatlanggo.Jpn: "ja",
	whatlanggo.Cmn: "zh", whatlanggo.Por: "pt", whatlanggo.Ron: "ro",
}

// minDetectLetters is how many letters a text needs before its language is guessed from it.
const minDetectLetters = 40

// detectLanguage guesses the language of text among the network's languages, preferring the member's own
// when the guess is unreliable. It returns "" when the text is too short to tell.
func detectLanguage(text string, memberLangs []string) string {
	letters, kana, han := 0, 0, 0
	for _, r := range text {
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
			letters++
		case unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
		}
	}
	if kana > 0 {
		return "ja" // whatlanggo counts kanji-heavy Japanese as Chinese
	}
	if han >= 8 {
		return "zh"
	}
	if letters < minDetectLetters {
		return ""
	}
	wl := map[whatlanggo.Lang]bool{}
	for l := range networkLangs {
		wl[l] = true
	}
	info := whatlanggo.DetectWithOptions(text, whatlanggo.Options{Whitelist: wl})
	code, ok := networkLangs[info.Lang]
	if !ok {
		return ""
	}
	if !info.IsReliable() {
		// An unsure guess outside the member's languages is worse than the member's first language.
		member := false
		for _, l := range memberLangs {
			if baseLang(l) == code {
				member = true
			}
		}
		if !member {
			return ""
		}
	}
	return code
}

// normLang canonicalises a BCP 47 tag ("en_gb" -> "en-GB"); it returns "" for what is no tag.
func normLang(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", "-"))
	if s == "" {
		return ""
	}
	t, err := language.Parse(s)
	if err != nil || t == language.Und {
		return ""
	}
	return t.String()
}

// baseLang is the language subtag of a tag: "fr-CH" -> "fr".
func baseLang(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_"); i > 0 {
		return s[:i]
	}
	return s
}
