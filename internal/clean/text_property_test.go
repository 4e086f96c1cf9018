package clean

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html/atom"
	"testing"

	"golang.org/x/net/html"
	"pgregory.net/rapid"
)

// The one-pass white-space handling and the no-markup fast paths must give what the
// straightforward Split/Fields/Join over the tokenizer's text gave.

func refText(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(refPlain(s, true), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func refTitle(s string) string {
	if s == "" {
		return ""
	}
	t := refPlain(s, false)
	if strings.Contains(t, "&") {
		t = html.UnescapeString(t)
	}
	return refTruncate(strings.Join(strings.Fields(t), " "), MaxTitle)
}

func TestTextMatchesReference(t *testing.T) {
	pieces := []string{"a", "Zé", "<hr/>", "<li>", "<th>", "<img src=x>", "<ul>", "<style>p{}</style>", "<!-- c -->", "日本", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u2003", "\u3000", "\x00", "\xff",
		"<p>", "</p>", "<br>", "<b>", "</b>", "<td>", "<script>x</script>", "&amp;", "&amp;#32;", "&#10;", "&#x3000;", "&amp;nbsp;", "&lt;b&gt;", "&nbsp;", "&", "<", ">", "word"}
	rapid.Check(t, func(t *rapid.T) {
		s := strings.Join(rapid.SliceOf(rapid.SampledFrom(pieces)).Draw(t, "pieces"), "")
		if got, want := Text(s), refText(s); got != want {
			t.Fatalf("Text(%q) = %q, want %q", s, got, want)
		}
		if got, want := Title(s), refTitle(s); got != want {
			t.Fatalf("Title(%q) = %q, want %q", s, got, want)
		}
		if got, want := Summary(s, 20), refTruncate(strings.Join(strings.Fields(refText(s)), " "), 20); got != want {
			t.Fatalf("Summary(%q) = %q, want %q", s, got, want)
		}
		for _, nl := range []byte{' ', '\n'} {
			want := strings.Join(strings.Fields(s), " ")
			if nl == '\n' {
				want = refCollapseLines(s)
			}
			if got := collapse(s, nl); got != want {
				t.Fatalf("collapse(%q, %q) = %q, want %q", s, nl, got, want)
			}
		}
	})
}

func refCollapseLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestCollapseKeepsCollapsedString(t *testing.T) {
	s := "already one space\nper gap"
	if got := collapse(s, '\n'); got != s {
		t.Fatalf("collapse = %q", got)
	}
	if n := testing.AllocsPerRun(10, func() { collapse(s, '\n') }); n != 0 {
		t.Errorf("collapse of a collapsed string allocates %v times", n)
	}
}

// refPlain is plain as it was before it collapsed white space: it extracts text from HTML. With blocks, block-level elements become newlines;
// without, every tag boundary of a line break becomes a space.
func refPlain(s string, blocks bool) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // depth inside elements whose content is never text
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				t := z.Text()
				if blocks {
					// Line breaks in the source are white space; only elements end lines.
					for i, c := range t {
						if c == '\n' || c == '\r' {
							t[i] = ' '
						}
					}
				}
				b.Write(t)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skipped[a] {
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			switch {
			case a == atom.Br || a == atom.Hr:
				b.WriteByte(refSep(blocks))
			case block[a]:
				b.WriteByte(refSep(blocks))
			case a == atom.Td || a == atom.Th || a == atom.Img:
				b.WriteByte(' ')
			}
		}
	}
}

func refSep(blocks bool) byte {
	if blocks {
		return '\n'
	}
	return ' '
}

// refTruncate is truncate as it was, converting all of s to runes.
func refTruncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	if max == 1 {
		return "…"
	}
	cut := max - 1
	if !(isCJK(r[cut]) || isCJK(r[cut-1])) && !unicode.IsSpace(r[cut]) {
		sp := -1
		for i := cut - 1; i > 0; i-- {
			if unicode.IsSpace(r[i]) {
				sp = i
				break
			}
		}
		if sp > cut/2 {
			cut = sp
		}
	}
	out := strings.TrimRightFunc(string(r[:cut]), func(c rune) bool {
		return unicode.IsSpace(c) || strings.ContainsRune(",;:.-–—(、。", c)
	})
	return out + "…"
}

func TestTruncateMatchesReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := strings.Join(rapid.SliceOf(rapid.SampledFrom([]string{"a", "b", " ", "日", "本", "\u3000", ",", ".", "\xff", "\xe6\x97", "\n"})).Draw(t, "pieces"), "")
		max := rapid.IntRange(-1, 30).Draw(t, "max")
		if got, want := truncate(s, max), refTruncate(s, max); got != want {
			t.Fatalf("truncate(%q, %d) = %q, want %q", s, max, got, want)
		}
	})
}
