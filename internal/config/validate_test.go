package config

import (
	"errors"
	"strings"
	"testing"
)

// TestIntervalOutsideBoundsRejected: fetch.interval below a min_interval or above a
// max_interval also written is an error naming file, line and key. It was accepted, and
// then silently replaced by the bound after the first poll (poll.Adapt clamps it; found
// by a helper's audit). Unwritten bounds follow the interval (see the defaults).
func TestIntervalOutsideBoundsRejected(t *testing.T) {
	for _, tc := range []struct{ name, fetch, want string }{
		{"below min", "fetch:\n  interval: 1m\n  min_interval: 10m\n", "f.yml:2: fetch.interval"},
		{"above max", "fetch:\n  interval: 12h\n  max_interval: 6h\n", "f.yml:2: fetch.interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tc.fetch+"members: [{id: a, name: A, homepage: \"https://a.example/\"}]\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// TestMaxIntervalAloneNamesTheKeyWritten: `max_interval: 5m` alone (the default
// min_interval is 10m) is reported at max_interval's line, naming the default; it was
// reported against fetch.min_interval, a key the file does not have, at `fetch:`.
func TestMaxIntervalAloneNamesTheKeyWritten(t *testing.T) {
	_, err := Parse("f.yml", []byte("fetch:\n  max_interval: 5m\nmembers: [{id: a, name: A, homepage: \"https://a.example/\"}]\n"))
	if err == nil || !strings.Contains(err.Error(), "f.yml:2: fetch.max_interval") {
		t.Errorf("error %v, want it at f.yml:2: fetch.max_interval (or the default min_interval lowered)", err)
	}
}

// TestSyntaxErrorLine: a YAML parser error names the line where the block holding the
// mistake starts, and says so. yaml.v3 gives that line counted from 0 for parser errors
// (from 1 for scanner errors), so an unclosed flow list on line 6 was reported at line 5,
// a mis-indented key on line 6 at line 3 (found by a helper's audit).
func TestSyntaxErrorLine(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		lines      []int // acceptable lines: where the mistake starts or is detected
	}{
		{"unclosed flow list", "fetch:\n  interval: 30m\nmembers:\n  - id: a\n    name: A\n    languages: [en, fr\n    homepage: https://a.example/\n", []int{6, 7}},
		{"bad indentation", "fetch:\n  interval: 30m\nmembers:\n  - id: a\n    name: A\n   homepage: https://a.example/\n", []int{4, 6}}, // the member's block, or the line
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tc.yaml))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			for _, l := range tc.lines {
				if ce.Line == l && (ce.Line == tc.lines[len(tc.lines)-1] || strings.Contains(ce.Msg, "block that starts on this line")) {
					return
				}
			}
			t.Errorf("error %q at line %d, want one of %v", err, ce.Line, tc.lines)
		})
	}
}

// TestDuplicateSourceURL: a source URL listed twice (by two members, or twice by one) is
// an error naming both places. The scheduler, the lease and the source's state are kept
// by URL, so under `serve` only one of them was ever polled, while the dashboard showed
// both as ok (found by a helper's audit).
func TestDuplicateSourceURL(t *testing.T) {
	for _, tc := range []struct{ name, members, want string }{
		{"two members' feeds", "  - {id: a, name: A, sources: [{feed: \"https://x.example/feed\"}]}\n  - {id: b, name: B, sources: [{feed: \"https://x.example/feed\"}]}\n",
			`f.yml:3: members[1].sources[0].feed: "https://x.example/feed" is also members[0].sources[0]`},
		{"one member's two pages", "  - id: a\n    name: A\n    sources:\n      - page: https://x.example/news\n      - page: https://x.example/news\n",
			`f.yml:6: members[0].sources[1].page: "https://x.example/news" is also members[0].sources[0]`},
		{"a homepage to discover and a page", "  - {id: a, name: A, homepage: \"https://x.example/\"}\n  - {id: b, name: B, sources: [{page: \"https://x.example/\"}]}\n",
			`f.yml:3: members[1].sources[0].page: "https://x.example/" is also members[0].homepage`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte("members:\n"+tc.members))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Parse("f.yml", []byte("members:\n  - {id: a, name: A, sources: [{feed: \"https://x.example/feed\"}, {feed: \"https://x.example/other\"}]}\n")); err != nil {
		t.Errorf("two sources of one site: %v", err)
	}
	// A disabled copy is not polled: a feed moving from one member to another.
	if _, err := Parse("f.yml", []byte("members:\n  - {id: a, name: A, disabled: true, sources: [{feed: \"https://x.example/feed\"}]}\n  - {id: b, name: B, sources: [{feed: \"https://x.example/feed\", disabled: true}]}\n  - {id: c, name: C, sources: [{feed: \"https://x.example/feed\"}]}\n")); err != nil {
		t.Errorf("disabled copies of a source: %v", err)
	}
}
