package feed

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/iss-network/networkfeed/internal/fetch"
)

// deepFeed is an RSS feed whose one item holds an extension element (a namespaced
// element gofeed parses recursively, one stack frame per level) nested depth levels
// deep, without end tags: depth*3 bytes, under fetch.DefaultMaxBody for depth 3,000,000.
func deepFeed(kind string, depth int) []byte {
	var b strings.Builder
	switch kind {
	case "atom":
		b.WriteString(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x"><title>T</title><entry><id>1</id><title>A</title><x:a>`)
	default:
		b.WriteString(`<?xml version="1.0"?><rss version="2.0" xmlns:x="urn:x"><channel><title>T</title><item><guid>1</guid><title>A</title><x:a>`)
	}
	b.WriteString(strings.Repeat("<a>", depth))
	return []byte(b.String())
}

// TestParseDeeplyNestedExtension: a hostile feed within the default body cap must give
// an error (or a feed), not take the process down. gofeed's parseExtensionElement
// recurses once per nesting level with no limit, and encoding/xml's Token (unlike
// Unmarshal) has none either: about 1.2 million levels exceed Go's 1 GB stack limit,
// a fatal error no recover can catch. The parse runs in a child process so that the
// crash fails this test instead of the whole package.
func TestParseDeeplyNestedExtension(t *testing.T) {
	const depth = 3_000_000
	if kind := os.Getenv("NF_DEEP_CHILD"); kind != "" {
		_, err := Parse(deepFeed(kind, depth))
		if err == nil || !strings.Contains(err.Error(), "nested more than") {
			t.Fatalf("parse: %v, want an error naming the nesting", err)
		}
		return
	}
	for _, kind := range []string{"rss", "atom"} {
		t.Run(kind, func(t *testing.T) {
			body := deepFeed(kind, depth)
			if int64(len(body)) > fetch.DefaultMaxBody {
				t.Fatalf("test feed of %d bytes is over the default cap", len(body))
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestParseDeeplyNestedExtension$", "-test.v")
			cmd.Env = append(os.Environ(), "NF_DEEP_CHILD="+kind)
			out, err := cmd.CombinedOutput()
			if err != nil {
				msg := string(out)
				if i := strings.Index(msg, "fatal error"); i >= 0 {
					msg = msg[i:min(len(msg), i+120)]
				} else if len(msg) > 400 {
					msg = msg[:400]
				}
				t.Fatalf("parsing a %d-byte %s feed nested %d levels deep: %v\n%s", len(body), kind, depth, err, msg)
			}
		})
	}
}
