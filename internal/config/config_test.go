package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadValid(t *testing.T) {
	c, err := Load("testdata/valid.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Members) != 2 || c.Members[0].ID != "iss-australia" {
		t.Fatalf("members = %+v", c.Members)
	}
	s := c.Members[0].Sources[1]
	if s.Kind() != "page" || s.Select == nil || s.Select.Link != "h2 a" || s.Interval.D() != 2*time.Hour || s.Timezone != "Australia/Sydney" {
		t.Errorf("page source = %+v", s)
	}
	if c.Fetch.MaxBody != 10<<20 || c.Fetch.Timeout.D() != 30*time.Second || c.Retention.MaxAge.D() != 365*24*time.Hour || c.Retention.MaxItemsPerSource != 200 {
		t.Errorf("fetch/retention = %+v %+v", c.Fetch, c.Retention)
	}
	if c.Fetch.PerHost != DefaultPerHost || !*c.Fetch.Robots {
		t.Errorf("defaults not applied: %+v", c.Fetch)
	}
	gs := c.Members[1].AllSources()
	if len(gs) != 1 || gs[0].Kind() != "homepage" || gs[0].URL() != "https://www.iss-ssi.org/" {
		t.Errorf("homepage-only member sources = %+v", gs)
	}
}

func TestLoadInvalid(t *testing.T) {
	cases := []struct {
		file string
		want string // file:line: key: message fragment
	}{
		{"unknown-key", `invalid-unknown-key.yml:7: members[0].colour: unknown key "colour"`},
		{"duplicate-id", `invalid-duplicate-id.yml:5: members[1].id: duplicate id "a"`},
		{"bad-url", `invalid-bad-url.yml:5: members[0].sources[0].feed: "ftp://a.example/feed" is not an absolute http(s) URL`},
		{"bad-duration", `invalid-bad-duration.yml:2: fetch.interval: invalid duration "30 minutes"`},
		{"bad-id", `invalid-bad-id.yml:2: members[0].id: "ISS_Australia" must match`},
		{"bad-selector", `invalid-bad-selector.yml:6: members[0].sources[0].select.item: invalid CSS selector "div["`},
		{"feed-and-page", `invalid-feed-and-page.yml:5: members[0].sources[0]: a source is either feed or page`},
		{"bad-country", `invalid-bad-country.yml:4: members[0].country: "Australia" is not an ISO 3166-1`},
		{"bad-language", `invalid-bad-language.yml:4: members[0].languages[1]: "english" is not a language tag`},
		{"bad-timezone", `invalid-bad-timezone.yml:6: members[0].sources[0].timezone: unknown time zone "Mars/Olympus"`},
		{"bad-size", `invalid-bad-size.yml:2: fetch.max_body: invalid size "lots"`},
		{"no-source", `invalid-no-source.yml:2: members[0]: no sources and no homepage`},
		{"syntax", `invalid-syntax.yml:3: `},
		// yaml.v3 gives the line of the value before a tab-indented line; the tab's own
		// line is the one to point at, and the message says what a tab has to do with it.
		{"tab-indent", `invalid-tab-indent.yml:6: found a tab character that violates indentation (the line is indented with a tab: YAML indents with spaces)`},
		{"tab-token", `invalid-tab-token.yml:7: found character that cannot start any token (the line is indented with a tab: YAML indents with spaces)`},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid-"+tc.file+".yml")
			_, err := Load(path)
			if err == nil {
				t.Fatal("no error")
			}
			want := "testdata/" + tc.want
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\n does not contain %q", err, want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Line == 0 {
				t.Errorf("error %v is not a *config.Error with a line", err)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30m": 30 * time.Minute, "365d": 365 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1h30m": 90 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "soon", "-5m", "3x"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}
