package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gorilla/feeds"
)

// External validators: Debian's python3-feedparser for RSS and Atom, and the npm packages
// ajv + ajv-formats + jsonfeed-schema for JSON Feed 1.1. Each test skips when its tool is
// missing, except under CI=true, where a missing tool fails the test.
//
// Setup: apt-get install -y python3-feedparser; npm ci --prefix internal/publish/testdata

// needTool skips or (under CI=true) fails the test when a validator is missing.
func needTool(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("validator missing in CI: %s", what)
	}
	t.Skipf("validator missing: %s", what)
}

const systemPython = "/usr/bin/python3"

type feedparserReport map[string]struct {
	Bozo          int    `json:"bozo"`
	BozoException string `json:"bozo_exception"`
	Version       string `json:"version"`
	Entries       []struct {
		ID, Link, Title string
	} `json:"entries"`
}

func runFeedparser(t *testing.T, files ...string) feedparserReport {
	t.Helper()
	_, err := os.Stat(systemPython)
	needTool(t, err == nil, systemPython)
	err = exec.CommandContext(t.Context(), systemPython, "-c", "import feedparser").Run()
	needTool(t, err == nil, "python3 module feedparser (apt-get install -y python3-feedparser)")
	args := append([]string{filepath.Join("testdata", "validate_feed.py")}, files...)
	out, err := exec.CommandContext(t.Context(), systemPython, args...).Output()
	if err != nil {
		t.Fatalf("validate_feed.py: %v\n%s", err, out)
	}
	var rep feedparserReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("validate_feed.py output: %v\n%s", err, out)
	}
	return rep
}

func TestFeedparserValidates(t *testing.T) {
	for _, tc := range goldenCases {
		if tc.format == FormatJSON {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join("testdata", tc.name+".golden")
			rep := runFeedparser(t, file)[file]
			wantVersion := map[string]string{FormatRSS: "rss20", FormatAtom: "atom10"}[tc.format]
			if rep.Bozo != 0 || rep.Version != wantVersion {
				t.Fatalf("feedparser: bozo %d (%s), version %q, want 0 and %q", rep.Bozo, rep.BozoException, rep.Version, wantVersion)
			}
			var fixture []fixtureItem
			if !tc.empty {
				fixture = fixtureItems()
			}
			if len(rep.Entries) != len(fixture) {
				t.Fatalf("feedparser saw %d entries, want %d", len(rep.Entries), len(fixture))
			}
			for i, fi := range fixture {
				wantID := fi.item.ID
				if tc.format == FormatAtom {
					wantID = AtomID(fi.item.ID)
				}
				if e := rep.Entries[i]; e.ID != wantID || e.Link != fi.item.Link || e.Title != fi.wantTitle {
					t.Errorf("entry %d: %+v, want id %q link %q title %q", i, e, wantID, fi.item.Link, fi.wantTitle)
				}
			}
		})
	}
	// The validator can fail: a control character makes feedparser flag the document.
	t.Run("rejects malformed", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.rss")
		doc := `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>a` + "\x01" +
			`</title><item><title>x</title><guid>1</guid></item></channel></rss>`
		if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if rep := runFeedparser(t, bad)[bad]; rep.Bozo != 1 {
			t.Errorf("feedparser accepted a document with U+0001: %+v", rep)
		}
	})
}

type jsonfeedReport map[string]struct {
	Valid  bool     `json:"valid"`
	Items  int      `json:"items"`
	IDs    []string `json:"ids"`
	Errors []string `json:"errors"`
}

func runJSONFeedSchema(t *testing.T, files ...string) jsonfeedReport {
	t.Helper()
	node, err := exec.LookPath("node")
	needTool(t, err == nil, "node")
	for _, pkg := range []string{"ajv", "ajv-formats", "jsonfeed-schema"} {
		_, err := os.Stat(filepath.Join("testdata", "node_modules", pkg, "package.json"))
		needTool(t, err == nil, "npm package "+pkg+" (npm ci --prefix internal/publish/testdata)")
	}
	args := append([]string{filepath.Join("testdata", "validate_jsonfeed.mjs")}, files...)
	cmd := exec.CommandContext(t.Context(), node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("validate_jsonfeed.mjs: %v\n%s%s", err, out, stderr.Bytes())
	}
	var rep jsonfeedReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("validate_jsonfeed.mjs output: %v\n%s%s", err, out, stderr.Bytes())
	}
	return rep
}

func TestJSONFeedSchemaValidates(t *testing.T) {
	for _, tc := range goldenCases {
		if tc.format != FormatJSON {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join("testdata", tc.name+".golden")
			rep := runJSONFeedSchema(t, file)[file]
			if !rep.Valid {
				t.Fatalf("JSON Feed 1.1 schema: %v", rep.Errors)
			}
			var fixture []fixtureItem
			if !tc.empty {
				fixture = fixtureItems()
			}
			if rep.Items != len(fixture) || len(rep.IDs) != len(fixture) {
				t.Fatalf("validator saw %d items, want %d", rep.Items, len(fixture))
			}
			for i, fi := range fixture {
				if rep.IDs[i] != fi.item.ID {
					t.Errorf("item %d id %q, want %q", i, rep.IDs[i], fi.item.ID)
				}
			}
		})
	}
	// The validator can fail, and it is why JSON wraps gorilla/feeds: the library's own
	// output for an empty feed has no "items".
	t.Run("rejects gorilla empty feed", func(t *testing.T) {
		var buf bytes.Buffer
		if err := (&feeds.Feed{Title: "empty", Link: &feeds.Link{Href: "https://example.org/"}}).WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(t.TempDir(), "gorilla-empty.json")
		if err := os.WriteFile(bad, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if rep := runJSONFeedSchema(t, bad)[bad]; rep.Valid {
			t.Errorf("validator accepted a feed without items:\n%s", buf.Bytes())
		}
	})
}
