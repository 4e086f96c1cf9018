// Package config reads feeds.yaml: the network, fetch settings, retention and the members
// with their sources. Defaults and validation sit beside the types; every error names the
// file, line and key it is about.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// Config is a whole feeds.yaml.
type Config struct {
	Network   Network   `yaml:"network"`
	Fetch     Fetch     `yaml:"fetch"`
	Retention Retention `yaml:"retention"`
	Alerts    Alerts    `yaml:"alerts"`
	Members   []Member  `yaml:"members"`

	// File is the path the config was read from (for messages).
	File string `yaml:"-"`
}

// Network describes the combined feed.
type Network struct {
	Title       string `yaml:"title"`
	URL         string `yaml:"url"` // public base URL, used in self links
	Language    string `yaml:"language"`
	Description string `yaml:"description"`
	WebSubHub   string `yaml:"websub_hub"`
}

// Fetch holds polling and HTTP settings.
type Fetch struct {
	Interval              Duration `yaml:"interval"`
	MinInterval           Duration `yaml:"min_interval"`
	MaxInterval           Duration `yaml:"max_interval"`
	Timeout               Duration `yaml:"timeout"`
	MaxBody               ByteSize `yaml:"max_body"`
	AllowPrivateAddresses bool     `yaml:"allow_private_addresses"`
	UserAgent             string   `yaml:"user_agent"`
	PerHost               int      `yaml:"per_host"` // concurrent requests per host
	Concurrency           int      `yaml:"concurrency"`
	Robots                *bool    `yaml:"robots"` // honour robots.txt (default true)
}

// Retention bounds what is kept per source.
type Retention struct {
	MaxItemsPerSource int      `yaml:"max_items_per_source"`
	MaxAge            Duration `yaml:"max_age"`
}

// Alerts configures where health changes are sent besides the alerts feed.
type Alerts struct {
	WebhookURL string `yaml:"webhook_url"`
}

// Member is one organisation of the network.
type Member struct {
	ID        string   `yaml:"id"`
	Name      string   `yaml:"name"`
	Country   string   `yaml:"country"`
	Region    string   `yaml:"region"`
	Languages []string `yaml:"languages"`
	Homepage  string   `yaml:"homepage"`
	Sources   []Source `yaml:"sources"`
	Disabled  bool     `yaml:"disabled"`
}

// Source is one feed or page of a member. Exactly one of Feed and Page is set
// (a member with only a homepage gets a discovered source, see Member.AllSources).
type Source struct {
	Feed     string     `yaml:"feed"`
	Page     string     `yaml:"page"`
	Select   *Selectors `yaml:"select"`
	Interval Duration   `yaml:"interval"`
	Timezone string     `yaml:"timezone"` // IANA name for pages printing local times
	Disabled bool       `yaml:"disabled"`

	// Homepage marks a source made from a member's homepage (feed discovery).
	Homepage string `yaml:"-"`
}

// Selectors are the CSS selectors of a page source.
type Selectors struct {
	Item    string `yaml:"item"`
	Title   string `yaml:"title"`
	Link    string `yaml:"link"`
	Date    string `yaml:"date"`
	Summary string `yaml:"summary"`
	Image   string `yaml:"image"`
}

// Kind of a source: "feed", "page" or "homepage".
func (s Source) Kind() string {
	switch {
	case s.Feed != "":
		return "feed"
	case s.Page != "":
		return "page"
	default:
		return "homepage"
	}
}

// URL of the source.
func (s Source) URL() string {
	switch {
	case s.Feed != "":
		return s.Feed
	case s.Page != "":
		return s.Page
	default:
		return s.Homepage
	}
}

// AllSources returns the member's sources; a member with none but a homepage gets one
// homepage source whose feed is discovered.
func (m Member) AllSources() []Source {
	if len(m.Sources) == 0 && m.Homepage != "" {
		return []Source{{Homepage: m.Homepage}}
	}
	return m.Sources
}

// Member returns the member with id, or false.
func (c *Config) Member(id string) (Member, bool) {
	for _, m := range c.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// BaseLanguage is the language subtag of a BCP 47 tag, the one items are stored and
// filtered under ("zh-Hant" -> "zh", "en-GB" -> "en", "EN" -> "en"); "" for what is no tag.
func BaseLanguage(tag string) string {
	t, err := language.Parse(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if err != nil {
		return ""
	}
	base, conf := t.Base()
	if conf == language.No || base.String() == "und" {
		return ""
	}
	return base.String()
}

// PublishedLanguages returns the base languages (BaseLanguage) the members publish in,
// sorted: the values of a feed's lang= filter. A member's "zh-Hant" or "en-GB" gives "zh"
// or "en", as its items are stored.
func (c *Config) PublishedLanguages() []string {
	var out []string
	for _, m := range c.Members {
		for _, l := range m.Languages {
			if b := BaseLanguage(l); b != "" && !slices.Contains(out, b) {
				out = append(out, b)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Defaults applied to a config when a key is absent.
const (
	DefaultInterval = 30 * time.Minute
	DefaultTimeout  = 30 * time.Second
	DefaultMaxBody  = 10 << 20
	DefaultPerHost  = 2
)

func (c *Config) applyDefaults() {
	if c.Network.Title == "" {
		c.Network.Title = "Network News"
	}
	if c.Network.Language == "" {
		c.Network.Language = "en"
	}
	if c.Network.URL == "" {
		c.Network.URL = "http://localhost:8080/"
	}
	if !strings.HasSuffix(c.Network.URL, "/") {
		c.Network.URL += "/"
	}
	f := &c.Fetch
	if f.Interval == 0 {
		f.Interval = Duration(DefaultInterval)
	}
	if f.MinInterval == 0 {
		f.MinInterval = min(f.Interval, Duration(10*time.Minute))
	}
	if f.MaxInterval == 0 {
		f.MaxInterval = max(f.Interval, Duration(6*time.Hour))
	}
	if f.Timeout == 0 {
		f.Timeout = Duration(DefaultTimeout)
	}
	if f.MaxBody == 0 {
		f.MaxBody = DefaultMaxBody
	}
	if f.PerHost == 0 {
		f.PerHost = DefaultPerHost
	}
	if f.Concurrency == 0 {
		f.Concurrency = 32
	}
	if f.Robots == nil {
		t := true
		f.Robots = &t
	}
	if c.Retention.MaxItemsPerSource == 0 {
		c.Retention.MaxItemsPerSource = 500
	}
	if c.Retention.MaxAge == 0 {
		c.Retention.MaxAge = Duration(365 * 24 * time.Hour)
	}
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes and validates a config; file is used in error messages.
func Parse(file string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, data, nil, err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file (or only comments) is an empty config: the validation says what it lacks.
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, data, &root, err)
	}
	c.File = file
	c.applyDefaults()
	if err := c.validate(&root); err != nil {
		return nil, err
	}
	return &c, nil
}

// Error is one problem in a config file.
type Error struct {
	File string
	Line int
	Key  string // dotted path, e.g. members[2].sources[0].feed
	Msg  string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

var (
	lineRE         = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type \S+`)
)

// yamlError turns yaml.v3's messages ("line 5: field foo not found in type config.Member")
// into Errors naming file, line and key; data is the file's text.
func yamlError(file string, data []byte, root *yaml.Node, err error) error {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var errs []error
	for _, m := range msgs {
		e := &Error{File: file, Msg: m}
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			fmt.Sscan(sm[1], &e.Line)
			e.Msg = sm[2]
			if strings.HasPrefix(e.Msg, "did not find expected") {
				// A parser error: yaml.v3 gives the line where the block being parsed
				// starts, counted from 0 (scanner errors are counted from 1).
				e.Line++
				e.Msg += " (in the block that starts on this line)"
			}
			if l := tabIndented(data, e.Line, strings.Contains(e.Msg, "tab character")); l > 0 {
				e.Line = l
				e.Msg += " (the line is indented with a tab: YAML indents with spaces)"
			}
		}
		if root != nil {
			e.Key = keyAtLine(root, e.Line)
		}
		if f := unknownFieldRE.FindStringSubmatch(e.Msg); f != nil {
			e.Msg = fmt.Sprintf("unknown key %q", f[1])
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// tabIndented returns the line, counted from 1, of the first line from line on whose
// indentation holds a tab (only line itself unless onward), or 0. yaml.v3 reports a tab
// that "violates indentation" on the line of the value before it, and one that starts a
// line as a character that "cannot start any token", which does not say that a tab is
// the trouble.
func tabIndented(data []byte, line int, onward bool) int {
	if line < 1 {
		return 0
	}
	lines := strings.Split(string(data), "\n")
	for i := line - 1; i < len(lines); i++ {
		text := lines[i]
		if strings.ContainsRune(text[:len(text)-len(strings.TrimLeft(text, " \t"))], '\t') {
			return i + 1
		}
		if !onward {
			break
		}
	}
	return 0
}

// keyAtLine returns the dotted path of the mapping key on line (the deepest one).
func keyAtLine(root *yaml.Node, line int) string {
	var found string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line || (v.Line == line && v.Kind == yaml.ScalarNode) {
					found = p
				}
				walk(v, p)
			}
		}
	}
	walk(root, "")
	return found
}

// nodeAt finds the node for a path like ["members", 2, "sources", 0, "feed"]: the key node
// when the last element is a key (so its line is the key's), else the value node.
func nodeAt(root *yaml.Node, path ...any) *yaml.Node {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	var last *yaml.Node = n
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if n == nil || n.Kind != yaml.MappingNode {
				return last
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					last, next = n.Content[i], n.Content[i+1]
					break
				}
			}
			if next == nil {
				return last
			}
			n = next
		case int:
			if n == nil || n.Kind != yaml.SequenceNode || p >= len(n.Content) {
				return last
			}
			n = n.Content[p]
			last = n
		}
	}
	return last
}

var idRE = regexp.MustCompile(`^[a-z0-9-]+$`)

type validator struct {
	file string
	root *yaml.Node
	errs []error
}

func (v *validator) fail(msg string, path ...any) {
	line := 1 // an empty file has no node to point at
	if n := nodeAt(v.root, path...); n != nil && n.Line > 0 {
		line = n.Line
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: line, Key: pathString(path), Msg: msg})
}

// has reports whether the file writes the key at path (a mapping key below the root).
func (v *validator) has(path ...any) bool {
	return v.root != nil && nodeAt(v.root, path...) != nodeAt(v.root, path[:len(path)-1]...)
}

// pathString writes a key path as errors name it: members[0].sources[1].feed.
func pathString(path []any) string {
	var key strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if key.Len() > 0 {
				key.WriteByte('.')
			}
			key.WriteString(p)
		case int:
			fmt.Fprintf(&key, "[%d]", p)
		}
	}
	return key.String()
}

func (v *validator) url(s string, path ...any) {
	if s == "" {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.fail(fmt.Sprintf("%q is not an absolute http(s) URL", s), path...)
	}
}

func (c *Config) validate(root *yaml.Node) error {
	v := &validator{file: c.File, root: root}
	v.url(c.Network.URL, "network", "url")
	v.url(c.Network.WebSubHub, "network", "websub_hub")
	v.url(c.Alerts.WebhookURL, "alerts", "webhook_url")
	if c.Fetch.Interval < Duration(time.Second) {
		v.fail("must be at least 1s", "fetch", "interval")
	}
	switch f := c.Fetch; {
	case f.MinInterval > f.MaxInterval && !v.has("fetch", "min_interval"):
		v.fail(fmt.Sprintf("%s is below min_interval (%s by default): set min_interval too", f.MaxInterval, f.MinInterval), "fetch", "max_interval")
	case f.MinInterval > f.MaxInterval && !v.has("fetch", "max_interval"):
		v.fail(fmt.Sprintf("%s is above max_interval (%s by default): set max_interval too", f.MinInterval, f.MaxInterval), "fetch", "min_interval")
	case f.MinInterval > f.MaxInterval:
		v.fail("is larger than max_interval", "fetch", "min_interval")
	case f.Interval < f.MinInterval: // both written: the defaults follow interval
		v.fail(fmt.Sprintf("%s is below min_interval (%s): the poller would never poll that often", f.Interval, f.MinInterval), "fetch", "interval")
	case f.Interval > f.MaxInterval:
		v.fail(fmt.Sprintf("%s is above max_interval (%s): the poller would never wait that long", f.Interval, f.MaxInterval), "fetch", "interval")
	}
	seenURL := map[string]string{} // source URL -> where it was first listed
	for i, m := range c.Members {
		for j, s := range m.AllSources() {
			if m.Disabled || s.Disabled {
				continue // not polled: it may share its URL (a feed moving to another member)
			}
			// where names the source in messages; at is the key an error points to.
			where, at := []any{"members", i, "homepage"}, []any{"members", i, "homepage"}
			if len(m.Sources) > 0 {
				kind := "feed"
				if s.Page != "" {
					kind = "page"
				}
				where, at = []any{"members", i, "sources", j}, []any{"members", i, "sources", j, kind}
			}
			u := s.URL()
			if first, dup := seenURL[u]; dup {
				v.fail(fmt.Sprintf("%q is also %s: a source is polled for one member (its schedule and state are kept by URL)", u, first), at...)
				continue
			}
			seenURL[u] = pathString(where)
		}
	}
	if c.Fetch.PerHost < -1 {
		v.fail("must be a number of requests, or -1 for no limit", "fetch", "per_host")
	}
	if c.Fetch.Concurrency < -1 {
		v.fail("must be a number of requests, or -1 for no limit", "fetch", "concurrency")
	}
	if c.Retention.MaxItemsPerSource < 0 {
		v.fail("must be a number of items", "retention", "max_items_per_source")
	}
	if _, err := language.Parse(c.Network.Language); err != nil {
		v.fail(fmt.Sprintf("%q is not a language tag like en or pt-BR", c.Network.Language), "network", "language")
	}
	if len(c.Members) == 0 {
		v.fail("no members: the network needs at least one", "members")
	}
	seen := map[string]int{}
	for i, m := range c.Members {
		switch {
		case m.ID == "":
			v.fail("missing id", "members", i)
		case !idRE.MatchString(m.ID):
			v.fail(fmt.Sprintf("%q must match [a-z0-9-]+", m.ID), "members", i, "id")
		}
		if j, dup := seen[m.ID]; dup && m.ID != "" {
			v.fail(fmt.Sprintf("duplicate id %q (also members[%d])", m.ID, j), "members", i, "id")
		}
		seen[m.ID] = i
		if m.Name == "" {
			v.fail("missing name", "members", i)
		}
		if m.Country != "" && !isCountry(m.Country) {
			v.fail(fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 code (two capital letters)", m.Country), "members", i, "country")
		}
		for j, l := range m.Languages {
			if _, err := language.Parse(l); err != nil {
				v.fail(fmt.Sprintf("%q is not a language tag like en or pt-BR", l), "members", i, "languages", j)
			}
		}
		v.url(m.Homepage, "members", i, "homepage")
		if len(m.Sources) == 0 && m.Homepage == "" {
			v.fail("no sources and no homepage to discover a feed from", "members", i)
		}
		for j, s := range m.Sources {
			switch {
			case s.Feed != "" && s.Page != "":
				v.fail("a source is either feed or page, not both", "members", i, "sources", j)
			case s.Feed == "" && s.Page == "":
				v.fail("a source needs feed: or page:", "members", i, "sources", j)
			}
			v.url(s.Feed, "members", i, "sources", j, "feed")
			v.url(s.Page, "members", i, "sources", j, "page")
			if s.Select != nil && s.Feed != "" {
				v.fail("select applies to page sources only", "members", i, "sources", j, "select")
			}
			if s.Select != nil && s.Select.Item == "" {
				v.fail("select needs at least item:", "members", i, "sources", j, "select")
			}
			if s.Select != nil {
				for _, f := range s.Select.fields() {
					if f.val == "" {
						continue
					}
					if err := compileSelector(f.val); err != nil {
						v.fail(fmt.Sprintf("invalid CSS selector %q: %v", f.val, err), "members", i, "sources", j, "select", f.name)
					}
				}
			}
			if s.Timezone != "" {
				if _, err := time.LoadLocation(s.Timezone); err != nil {
					v.fail(fmt.Sprintf("unknown time zone %q", s.Timezone), "members", i, "sources", j, "timezone")
				}
			}
			if s.Interval != 0 && s.Interval < Duration(time.Second) {
				v.fail("must be at least 1s", "members", i, "sources", j, "interval")
			}
		}
	}
	return errors.Join(v.errs...)
}

// isCountry reports whether c is an ISO 3166-1 alpha-2 country code, in capitals.
func isCountry(c string) bool {
	r, err := language.ParseRegion(c)
	return err == nil && len(c) == 2 && strings.ToUpper(c) == c && r.IsCountry()
}

type selField struct{ name, val string }

func (s *Selectors) fields() []selField {
	return []selField{{"item", s.Item}, {"title", s.Title}, {"link", s.Link}, {"date", s.Date}, {"summary", s.Summary}, {"image", s.Image}}
}
