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

// TestOutOfRangeValuesRejected: values the code would take for something else are errors
// naming file, line and key. A duration past 2^63 ns ("1000000d" for "forever", "Infd")
// wrapped to a negative one, which retention read as no limit; a size likewise; a
// negative concurrency or max_items_per_source meant no limit, silently; network.language
// was not checked as members' languages are; an empty file said "EOF" at line 0; a list
// where a duration goes was reported as the duration "".
func TestOutOfRangeValuesRejected(t *testing.T) {
	const members = "members: [{id: a, name: A, homepage: \"https://a.example/\"}]\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"huge duration", "retention:\n  max_age: 1000000d\n" + members, `f.yml:2: retention.max_age: invalid duration "1000000d"`},
		{"infinite duration", "fetch:\n  interval: Infw\n" + members, `f.yml:2: fetch.interval: invalid duration "Infw"`},
		{"huge size", "fetch:\n  max_body: 1e30GiB\n" + members, `f.yml:2: fetch.max_body: invalid size "1e30GiB"`},
		{"negative concurrency", "fetch:\n  concurrency: -3\n" + members, "f.yml:2: fetch.concurrency: must be a number of requests, or -1 for no limit"},
		{"negative item cap", "retention:\n  max_items_per_source: -5\n" + members, "f.yml:2: retention.max_items_per_source: must be a number"},
		{"network language", "network:\n  language: not a tag\n" + members, `f.yml:2: network.language: "not a tag" is not a language tag`},
		{"empty file", "", "f.yml:1: members: no members"},
		{"comments only", "# members to come\n", "f.yml:1: members: no members"},
		{"list for a duration", "fetch:\n  interval: [30m]\n" + members, "f.yml:2: fetch.interval: cannot unmarshal !!seq into a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	if c, err := Parse("f.yml", []byte("fetch:\n  concurrency: -1\nretention:\n  max_age: 106751d\n"+members)); err != nil || c.Fetch.Concurrency != -1 {
		t.Errorf("concurrency -1 (no limit) and the longest max_age: %v", err)
	}
}
