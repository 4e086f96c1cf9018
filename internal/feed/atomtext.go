package feed

import (
	"bytes"
	"strings"
)

// textKinds says which of an Atom entry's title, summary and content are text constructs of
// type text (RFC 4287 3.1: type="text" or no type; Atom 0.3's text/plain): plain text, which
// gofeed gives with its entities decoded but without its type, so that "Children &lt;3
// families &amp; a &lt;b&gt; tag" reached the rest of the pipeline as HTML and lost its
// "<b>".
type textKinds struct{ title, summary, content bool }

// atomNamespaces are the namespaces gofeed reads as Atom's own.
var atomNamespaces = []string{"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"}

// atomTexts returns the textKinds of each entry of an Atom document, in document order:
// the last title, summary and content directly in each entry (gofeed keeps the last one),
// not those of an entry's atom:source or of its extensions. Like checkDepth it scans bytes
// for markup (eachStartTag) rather than tokenizing the document again; an element counts as Atom's when it
// has no prefix or a prefix the root element binds to an Atom namespace.
func atomTexts(body []byte) []textKinds {
	var (
		out     []textKinds
		inEntry bool // the element open at depth 2 is an entry
		atom    = map[string]bool{"": true}
	)
	eachStartTag(body, func(depth int, tag []byte, _ bool) bool {
		if depth > 3 {
			return true
		}
		prefix, name := tagName(tag)
		switch {
		case depth == 1:
			eachAttr(tag, func(k, v string) {
				if p, ok := strings.CutPrefix(k, "xmlns:"); ok {
					for _, ns := range atomNamespaces {
						if strings.TrimSpace(v) == ns {
							atom[p] = true
						}
					}
				}
			})
		case depth == 2:
			if inEntry = atom[prefix] && strings.EqualFold(name, "entry"); inEntry {
				out = append(out, textKinds{})
			}
		case inEntry && atom[prefix]:
			k := &out[len(out)-1]
			switch strings.ToLower(name) {
			case "title":
				k.title = textType(tag)
			case "summary":
				k.summary = textType(tag)
			case "content":
				k.content = textType(tag)
			}
		}
		return true
	})
	return out
}

// textType reports whether the start tag of a text construct says it holds plain text, as
// gofeed reads its type: "text", "text/plain" or another text type but HTML, or none at all
// (Atom's default). With a mode and no type (Atom 0.3) gofeed leaves the value as written, and
// so do we.
func textType(tag []byte) bool {
	var typ, mode string
	eachAttr(tag, func(k, v string) {
		switch strings.ToLower(k) {
		case "type":
			typ = strings.ToLower(strings.TrimSpace(v))
		case "mode":
			mode = strings.TrimSpace(v)
		}
	})
	if typ == "" {
		return mode == ""
	}
	return typ == "text" || strings.HasPrefix(typ, "text/") && typ != "text/html"
}

// tagName splits the name of the start tag tag (its text after '<') into prefix and local name.
func tagName(tag []byte) (prefix, name string) {
	n := bytes.IndexAny(tag, " \t\r\n/>")
	if n < 0 {
		n = len(tag)
	}
	full := string(tag[:n])
	if p, local, ok := strings.Cut(full, ":"); ok {
		return p, local
	}
	return "", full
}

// eachAttr calls fn with the name and value of each quoted attribute of the start tag tag (its
// text after '<', up to and with its '>'). Values are given as written, entities and all.
func eachAttr(tag []byte, fn func(name, value string)) {
	i := bytes.IndexAny(tag, " \t\r\n")
	if i < 0 {
		return
	}
	for i < len(tag) {
		eq := bytes.IndexByte(tag[i:], '=')
		if eq < 0 {
			return
		}
		name := string(bytes.TrimSpace(tag[i : i+eq]))
		i += eq + 1
		for i < len(tag) && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\r' || tag[i] == '\n') {
			i++
		}
		if i >= len(tag) || (tag[i] != '"' && tag[i] != '\'') {
			return // not XML: leave it to the parser
		}
		q := tag[i]
		e := bytes.IndexByte(tag[i+1:], q)
		if e < 0 {
			return
		}
		fn(name, string(tag[i+1:i+1+e]))
		i += e + 2
	}
}
