package fetch

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
)

// docKind is what a body is, as far as decoding goes.
type docKind int

const (
	kindBinary docKind = iota
	kindText
	kindHTML
	kindXML
	kindJSON
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}

	utf16LE = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	utf16BE = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)

	xmlEncodingRe = regexp.MustCompile(`\A\s*<\?xml[^>]*?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:\-]+)\s*["']`)
	xmlDeclRe     = regexp.MustCompile(`\A(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*(["'])`)
	metaCharsetRe = regexp.MustCompile(`(?i)<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)`)
)

// ToUTF8 returns body as valid UTF-8 when it is text (text/*, HTML, XML, JSON, or an untyped body
// that looks like one of them); other bodies are returned unchanged.
//
// The encoding is taken from, in order: a byte-order mark (UTF-8, UTF-16LE/BE), the charset
// parameter of contentType, then the document's own declaration (<?xml encoding="..."?> for XML,
// <meta charset> for HTML). When the header and the document disagree, the one the bytes agree
// with wins (a body that is valid UTF-8 is not a Latin-1 body, whatever the header says). With no
// declaration at all, JSON is UTF-8, and other text is UTF-8 if it contains valid multi-byte
// UTF-8, else windows-1252. Invalid bytes become U+FFFD.
//
// For XML the declaration's encoding is rewritten to UTF-8 (so a parser such as gofeed does not
// decode the body twice) and characters XML forbids (C0 controls other than tab, LF, CR) are
// dropped. For HTML the first <meta> charset is rewritten to utf-8 for the same reason.
//
// The result can be up to three times as long as body (a byte of a single-byte charset,
// or an invalid one, becomes up to three bytes); Client.Get holds a body to
// Options.MaxBody after conversion too.
func ToUTF8(body []byte, contentType string) ([]byte, error) {
	return toUTF8(body, contentType, 0, false)
}

// toUTF8 is ToUTF8 holding the result to limit bytes (when limit > 0), as a fetched body
// is held on the wire and after decompression: a longer one is a *tooLargeError, or,
// with truncate, is cut at limit, at a character's boundary. Without truncate the
// conversion stops once it is sure to pass limit, so that what is never returned is
// never held whole either.
func toUTF8(body []byte, contentType string, limit int64, truncate bool) ([]byte, error) {
	media, params := "", map[string]string{}
	if contentType != "" {
		if mt, p, err := mime.ParseMediaType(contentType); err == nil {
			media, params = mt, p
		} else {
			media = mediaType(contentType)
		}
	}
	kind := classify(media, body)
	if kind == kindBinary || len(body) == 0 {
		return body, nil
	}
	enc, rest := chooseEncoding(kind, body, params["charset"])
	// While converting, the text may pass limit by what rewriting its declaration takes
	// off at the end (see declSlack); only more than that is sure to be too large.
	var bound int64
	if limit > 0 && !truncate {
		bound = limit + declSlack
	}
	out := rest
	if enc != nil {
		var err error
		if out, err = decode(enc, kind, rest, bound); errors.Is(err, ErrTooLarge) {
			return nil, &tooLargeError{Limit: limit, Converted: true}
		} else if err != nil {
			return nil, err
		}
	}
	if !utf8.Valid(out) {
		if bound > 0 && int64(validLen(out, kind)) > bound {
			return nil, &tooLargeError{Limit: limit, Converted: true}
		}
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	// What rewriting the declaration adds ("utf8" or "gbk" named "UTF-8": a few bytes) is
	// not held to limit: a UTF-8 body within the cap on the wire, nothing converted,
	// would otherwise be refused as too large once converted.
	var declared int
	switch kind {
	case kindXML:
		n := len(out)
		out = fixXMLDecl(out)
		declared = max(0, len(out)-n)
		out = dropXMLControls(out)
	case kindHTML:
		n := len(out)
		out = fixMetaCharset(out)
		declared = max(0, len(out)-n)
	}
	if limit > 0 && int64(len(out)) > limit {
		if !truncate {
			if int64(len(out)) <= limit+int64(declared) {
				return out, nil
			}
			return nil, &tooLargeError{Limit: limit, Converted: true}
		}
		i := int(limit)
		for i > 0 && !utf8.RuneStart(out[i]) {
			i--
		}
		out = out[:i]
	}
	return out, nil
}

// declSlack bounds what rewriting a document's declared charset to UTF-8 can take off:
// the name it replaces lies within the first 4096 bytes (fixMetaCharset, fixXMLDecl).
const declSlack = 4096

// decode converts body from enc to UTF-8. With bound > 0 it stops with ErrTooLarge once
// the result passes bound bytes, the characters XML forbids (which the result loses
// anyway) left out of the count.
func decode(enc encoding.Encoding, kind docKind, body []byte, bound int64) ([]byte, error) {
	if bound <= 0 {
		out, err := enc.NewDecoder().Bytes(body)
		if err != nil {
			return nil, fmt.Errorf("convert body to utf-8: %w", err)
		}
		return out, nil
	}
	var t transform.Transformer = enc.NewDecoder()
	if kind == kindXML {
		t = transform.Chain(t, runes.Remove(runes.Predicate(xmlForbidden)))
	}
	r := transform.NewReader(bytes.NewReader(body), t)
	// Room for the usual growth (a byte of most single-byte charsets' upper half takes
	// two), up to the bound and a byte to see the end.
	out, err := readAll(newCapReader(r, bound, false), min(2*int64(len(body)), bound)+1)
	if errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("convert body to utf-8: %w", err)
	}
	return out, nil
}

// validLen is len(bytes.ToValidUTF8(b, "\uFFFD")), counted without building it (each run
// of invalid bytes becomes one 3-byte U+FFFD), less the characters XML forbids when kind
// is XML.
func validLen(b []byte, kind docKind) int {
	n, invalid := 0, false
	for i := 0; i < len(b); {
		_, size := utf8.DecodeRune(b[i:])
		switch {
		case size == 1 && b[i] >= utf8.RuneSelf:
			if !invalid {
				n += len("\uFFFD")
			}
			invalid = true
		case kind == kindXML && xmlForbidden(rune(b[i])):
			invalid = false
		default:
			n += size
			invalid = false
		}
		i += size
	}
	return n
}

// chooseEncoding returns the decoder to use (nil for UTF-8) and the body without its BOM.
func chooseEncoding(kind docKind, body []byte, headerLabel string) (encoding.Encoding, []byte) {
	switch {
	case bytes.HasPrefix(body, bomUTF8):
		return nil, body[len(bomUTF8):]
	case bytes.HasPrefix(body, bomUTF16LE):
		return utf16LE, body[len(bomUTF16LE):]
	case bytes.HasPrefix(body, bomUTF16BE):
		return utf16BE, body[len(bomUTF16BE):]
	}
	if e := utf16Pattern(body); e != nil {
		return e, body // BOM-less UTF-16 XML: "<?" in two-byte units
	}

	header, headerName := lookup(headerLabel)
	if strings.HasPrefix(headerName, "utf-16") {
		header, headerName = nil, "" // UTF-16 without a BOM or "<?" pattern: the header is wrong
	}
	var docLabel string
	switch kind {
	case kindXML:
		docLabel = submatch(xmlEncodingRe, body, 1024)
	case kindHTML:
		docLabel = submatch(metaCharsetRe, body, 4096)
	}
	doc, docName := lookup(docLabel)
	if strings.HasPrefix(docName, "utf-16") {
		// The declaration was readable as ASCII, so the body is not UTF-16 (HTML says: use UTF-8).
		doc, docName = nil, "utf-8"
	}

	valid := utf8.Valid(body)
	switch {
	case headerName != "" && docName != "" && headerName != docName:
		// Disagreement: believe the side the bytes agree with.
		if headerName == "utf-8" && !valid {
			return doc, body
		}
		if docName == "utf-8" && valid && hasMultibyte(body) {
			return nil, body
		}
		return utf8Nil(header, headerName), body
	case headerName != "":
		return utf8Nil(header, headerName), body
	case docName != "":
		return utf8Nil(doc, docName), body
	}
	if kind == kindJSON || valid || hasMultibyte(body) {
		return nil, body // JSON is UTF-8 by definition (RFC 8259)
	}
	return charmap.Windows1252, body
}

// lookup maps a charset label to its WHATWG encoding and canonical name ("" when unknown).
func lookup(label string) (encoding.Encoding, string) {
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, ""
	}
	e, name := charset.Lookup(label)
	if e == nil || name == "replacement" {
		// WHATWG maps a few labels (iso-2022-kr, hz-gb-2312, iso-2022-cn…) to the
		// "replacement" encoding, which turns any body into one U+FFFD: taken as unknown,
		// the body is decoded as if no charset were named.
		return nil, ""
	}
	return e, strings.ToLower(name)
}

// utf8Nil returns nil for UTF-8 (no decoder needed: invalid bytes are replaced afterwards).
func utf8Nil(e encoding.Encoding, name string) encoding.Encoding {
	if name == "utf-8" {
		return nil
	}
	return e
}

func submatch(re *regexp.Regexp, body []byte, limit int) string {
	if len(body) > limit {
		body = body[:limit]
	}
	m := re.FindSubmatch(body)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// utf16Pattern detects BOM-less UTF-16 XML by its first characters "<?".
func utf16Pattern(b []byte) encoding.Encoding {
	switch {
	case bytes.HasPrefix(b, []byte{'<', 0, '?', 0}):
		return utf16LE
	case bytes.HasPrefix(b, []byte{0, '<', 0, '?'}):
		return utf16BE
	}
	return nil
}

// hasMultibyte reports whether b contains at least one valid multi-byte UTF-8 sequence.
func hasMultibyte(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError && n > 1 {
			return true
		}
		i += n
	}
	return false
}

// classify decides how to treat a body from its media type and, for untyped or generic
// types, its first bytes.
func classify(media string, body []byte) docKind {
	head := sniffHead(body)
	if bytes.HasPrefix(head, []byte("<?xml")) {
		return kindXML // feeds are served as text/html or text/plain often enough
	}
	switch {
	case media == "text/html":
		return kindHTML
	case media == "application/xhtml+xml", strings.HasSuffix(media, "/xml"), strings.HasSuffix(media, "+xml"):
		return kindXML
	case strings.HasSuffix(media, "/json"), strings.HasSuffix(media, "+json"):
		return kindJSON
	case media == "", media == "text/plain", media == "application/octet-stream",
		media == "binary/octet-stream", media == "application/unknown":
		if k := sniffKind(head); k != kindBinary {
			return k
		}
		if media == "text/plain" {
			return kindText
		}
		if strings.HasPrefix(http.DetectContentType(body), "text/") {
			return kindText
		}
		return kindBinary
	case strings.HasPrefix(media, "text/"), media == "application/javascript", media == "application/ecmascript":
		return kindText
	}
	return kindBinary
}

func sniffKind(head []byte) docKind {
	for _, p := range []string{"<rss", "<feed", "<rdf:rdf", "<?xml"} {
		if bytes.HasPrefix(head, []byte(p)) {
			return kindXML
		}
	}
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<meta", "<!--"} {
		if bytes.HasPrefix(head, []byte(p)) {
			return kindHTML
		}
	}
	if bytes.HasPrefix(head, []byte("{")) || bytes.HasPrefix(head, []byte("[")) {
		return kindJSON
	}
	return kindBinary
}

// sniffHead returns the first bytes of body, lower-cased, after a BOM and white space. UTF-16
// (by BOM or "<?" pattern) is narrowed to its ASCII bytes first.
func sniffHead(body []byte) []byte {
	b := body
	if len(b) > 1024 {
		b = b[:1024]
	}
	var step, off int
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		b = b[3:]
	case bytes.HasPrefix(b, bomUTF16LE):
		step, off = 2, 2
	case bytes.HasPrefix(b, bomUTF16BE):
		step, off = 2, 3
	case utf16Pattern(b) == utf16LE:
		step, off = 2, 0
	case utf16Pattern(b) == utf16BE:
		step, off = 2, 1
	}
	if step != 0 {
		narrow := make([]byte, 0, len(b)/2)
		for i := off; i < len(b); i += step {
			narrow = append(narrow, b[i])
		}
		b = narrow
	}
	b = bytes.TrimLeft(b, " \t\r\n\f")
	if len(b) > 64 {
		b = b[:64]
	}
	return bytes.ToLower(b)
}

// fixXMLDecl rewrites the encoding in a leading XML declaration to UTF-8.
func fixXMLDecl(b []byte) []byte {
	n := min(len(b), 1024)
	loc := xmlDeclRe.FindSubmatchIndex(b[:n])
	if loc == nil || strings.EqualFold(string(b[loc[5]:loc[6]]), "utf-8") {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	out = append(out, b[loc[2]:loc[3]]...) // prefix up to "encoding="
	out = append(out, b[loc[4]:loc[5]]...) // opening quote
	out = append(out, "UTF-8"...)
	out = append(out, b[loc[6]:]...) // closing quote onwards
	return out
}

// xmlForbidden reports whether r is a C0 control character XML 1.0 forbids (all but tab,
// LF, CR).
func xmlForbidden(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }

// dropXMLControls removes C0 control characters XML 1.0 forbids (all but tab, LF, CR).
func dropXMLControls(b []byte) []byte {
	bad := func(c byte) bool { return xmlForbidden(rune(c)) }
	first := -1
	for i, c := range b { // byte scan: C0 controls never occur inside multi-byte UTF-8
		if bad(c) {
			first = i
			break
		}
	}
	if first < 0 {
		return b
	}
	out := append(make([]byte, 0, len(b)), b[:first]...)
	for _, c := range b[first:] {
		if !bad(c) {
			out = append(out, c)
		}
	}
	return out
}

// fixMetaCharset rewrites the charset named by the first <meta> that has one to utf-8.
func fixMetaCharset(b []byte) []byte {
	n := min(len(b), 4096)
	loc := metaCharsetRe.FindSubmatchIndex(b[:n])
	if loc == nil || strings.EqualFold(string(b[loc[2]:loc[3]]), "utf-8") {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	out = append(out, b[:loc[2]]...)
	out = append(out, "utf-8"...)
	return append(out, b[loc[3]:]...)
}
