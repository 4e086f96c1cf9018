package feed

import (
	"bytes"
	"fmt"
)

// MaxDepth is how deeply a feed's XML elements may nest. gofeed reads elements outside
// the feed's own vocabulary (extensions) recursively, a stack frame per level, and
// encoding/xml's tokenizer sets no bound: a few megabytes of "<a><a><a>…" would grow
// the stack past Go's limit and kill the process, which no recover can catch. Real
// feeds nest a dozen levels; HTML left unescaped in a description adds a few more.
// encoding/xml's Unmarshal stops at the same depth.
const MaxDepth = 10_000

// checkDepth returns an error when an XML document nests elements more than MaxDepth
// deep. It scans bytes for markup (eachStartTag) rather than tokenizing with
// encoding/xml, which would cost a good part of the parse again (this is under 2% of it,
// BenchmarkCheckDepth). It never errs on a document the decoder would accept at that
// depth; on malformed markup it may stop early and leave the error to the parser.
func checkDepth(body []byte) error {
	var err error
	eachStartTag(body, func(depth int, _ []byte, empty bool) bool {
		if !empty && depth > MaxDepth {
			err = fmt.Errorf("elements nested more than %d deep", MaxDepth)
			return false
		}
		return true
	})
	return err
}

// eachStartTag calls f with each start tag of an XML document (body[i:end], from its
// name to just past its '>'), its depth (the root is 1) and whether it is an
// empty-element tag, until f returns false. It scans bytes for markup as the decoder
// would see it: comments, CDATA sections, processing instructions and declarations are
// skipped whole, empty-element tags do not nest, and a quoted attribute value may hold
// '>'.
func eachStartTag(body []byte, f func(depth int, tag []byte, empty bool) bool) {
	depth := 0
	for i := 0; ; {
		j := bytes.IndexByte(body[i:], '<')
		if j < 0 {
			return
		}
		i += j + 1
		rest := body[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("!--")):
			i = skipPast(body, i, "-->")
		case bytes.HasPrefix(rest, []byte("![CDATA[")):
			i = skipPast(body, i, "]]>")
		case bytes.HasPrefix(rest, []byte("?")):
			i = skipPast(body, i, "?>")
		case bytes.HasPrefix(rest, []byte("!")):
			i = skipPast(body, i, ">")
		case bytes.HasPrefix(rest, []byte("/")):
			depth = max(depth-1, 0)
			i = skipPast(body, i, ">")
		default:
			end, empty := tagEnd(body, i)
			if !f(depth+1, body[i:end], empty) {
				return
			}
			if !empty {
				depth++
			}
			i = end
		}
		if i >= len(body) {
			return
		}
	}
}

// skipPast returns the index just past the first end at or after i (len(body) if none).
func skipPast(body []byte, i int, end string) int {
	j := bytes.Index(body[i:], []byte(end))
	if j < 0 {
		return len(body)
	}
	return i + j + len(end)
}

// tagEnd returns the index just past the '>' of the start tag whose name begins at i,
// skipping quoted attribute values, and whether the tag is an empty-element tag ("/>").
func tagEnd(body []byte, i int) (int, bool) {
	var quote byte
	for ; i < len(body); i++ {
		c := body[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1, body[i-1] == '/'
		}
	}
	return len(body), false
}
