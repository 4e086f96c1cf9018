package app

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
)

// opmlFeed is one feed outline of an imported OPML file.
type opmlFeed struct {
	Title, XMLURL, HTMLURL, Region, Country string
	Line                                    int // where the outline starts in the OPML file
}

// readOPML returns the feed outlines of an OPML document, depth first. A folder's text
// is taken as the region of the feeds under it; a category "/Region/CC" (as networkfeed's
// /opml writes) sets region and country. Exports differ in the ways readers tolerate:
// attribute names in any case (xmlurl, XMLURL), any encoding (a BOM, UTF-16,
// windows-1252), HTML entities (&eacute;) and titles escaped twice (&amp;amp;), the feed:
// scheme of old exports (feed://host/rss, feed:https://host/rss), and what hand editing
// leaves: a bare & (a URL's "?a=1&b=2"), read as "&amp;" would be. An element closed by
// another's end tag, a file cut short, and a feed outline whose xmlUrl is not an
// absolute http(s) URL are errors naming their line: the outlines would be read into the
// wrong folders or lost, or make the whole config invalid.
func readOPML(r io.Reader) ([]opmlFeed, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("the file is empty")
	}
	// To UTF-8 from what its BOM, its declaration or its bytes say, the declaration
	// rewritten to UTF-8.
	if b, err = fetch.ToUTF8(b, "application/xml"); err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Entity = xml.HTMLEntity
	// Not strict: a bare & (or an unknown entity) is kept as it is written, where the
	// strict decoder refused the whole file. It would also close an element by any end
	// tag: RawToken does not match end tags, and the loop below does, as strictly.
	dec.Strict = false
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) { return in, nil }
	attr := func(e xml.StartElement, name string) string {
		for _, a := range e.Attr {
			if strings.EqualFold(a.Name.Local, name) {
				return strings.TrimSpace(a.Value)
			}
		}
		return ""
	}
	var (
		out   []opmlFeed
		seen  bool     // an <opml> element
		path  []string // names of the open elements
		at    []int    // the lines where they open
		scope []string // per open outline: the region of the outlines in it
	)
	region := func() string {
		if len(scope) == 0 {
			return ""
		}
		return scope[len(scope)-1]
	}
	for {
		line, _ := dec.InputPos() // before the token: where a tag starts
		tok, err := dec.RawToken()
		if err == io.EOF {
			if len(path) > 0 {
				return nil, fmt.Errorf("line %d: unexpected EOF: <%s> opened at line %d not closed", line, path[len(path)-1], at[len(at)-1])
			}
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if len(path) == 0 && name != "opml" {
				return nil, fmt.Errorf("not an OPML file: line %d: <%s>, not <opml>", line, name)
			}
			seen = true
			inBody := len(path) >= 2 && path[1] == "body"
			path, at = append(path, name), append(at, line)
			if name != "outline" || !inBody {
				continue
			}
			title := attr(t, "title")
			if title == "" {
				title = attr(t, "text")
			}
			title = strings.TrimSpace(html.UnescapeString(title)) // escaped twice by the exporter
			xmlURL := fromFeedScheme(attr(t, "xmlUrl"))
			if xmlURL == "" {
				scope = append(scope, title) // a folder: its title is its feeds' region
				continue
			}
			if !httpURL(xmlURL) {
				return nil, fmt.Errorf("line %d: feed %q: xmlUrl %q is not an absolute http(s) URL", line, title, xmlURL)
			}
			f := opmlFeed{Title: title, XMLURL: xmlURL, HTMLURL: attr(t, "htmlUrl"), Region: region(), Line: line}
			scope = append(scope, f.Region) // outlines in a feed's: its folder's region
			if !httpURL(f.HTMLURL) {
				f.HTMLURL = "" // only a hint: the homepage it would give the member
			}
			if cat := attr(t, "category"); strings.HasPrefix(cat, "/") {
				parts := strings.Split(strings.Trim(cat, "/"), "/")
				f.Region = parts[0]
				if len(parts) >= 2 && countryRE.MatchString(parts[1]) {
					f.Country = parts[1]
				}
			}
			if f.Title == "" {
				f.Title = f.XMLURL
			}
			out = append(out, f)
		case xml.EndElement:
			if len(path) == 0 || path[len(path)-1] != t.Name.Local {
				if len(path) == 0 {
					return nil, fmt.Errorf("line %d: unexpected end element </%s>", line, t.Name.Local)
				}
				return nil, fmt.Errorf("line %d: element <%s> closed by </%s> (<%[2]s> opened at line %[4]d)", line, path[len(path)-1], t.Name.Local, at[len(at)-1])
			}
			if path[len(path)-1] == "outline" && len(path) >= 3 && path[1] == "body" {
				scope = scope[:len(scope)-1]
			}
			path, at = path[:len(path)-1], at[:len(at)-1]
		}
	}
	if !seen {
		return nil, errors.New("not an OPML file: no <opml> element")
	}
	return out, nil
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// fromFeedScheme is the http(s) URL that a feed: URL of old exports and subscribe links
// stands for: feed://host/rss is http://host/rss, feed:https://host/rss is
// https://host/rss. Any other URL is returned as it is.
func fromFeedScheme(s string) string {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !strings.EqualFold(scheme, "feed") {
		return s
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		if httpURL(after) {
			return after // feed://https://host/rss, as some browsers wrote
		}
		return "http:" + rest
	}
	if httpURL(rest) {
		return rest
	}
	return s
}

// httpURL reports whether s is an absolute http(s) URL, as feeds.yaml needs.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// importResult says what an import did.
type importResult struct {
	Added      []string // "member-id: feed URL" for feeds added to existing members
	NewMembers []string // ids of members created
	Skipped    []string // feed URLs already in the config
}

// importOPML adds feeds to a feeds.yaml text: a feed already listed is skipped; a feed
// whose htmlUrl (or own) host is a member's homepage host joins that member's sources;
// any other becomes a new member. The edit is planned on the yaml.v3 node tree and
// applied as insertions of whole lines at the positions the tree gives, so every existing
// line (comments, alignment, blank lines) stays as it was. The result is validated.
func importOPML(file string, src []byte, feeds []opmlFeed) ([]byte, importResult, error) {
	var res importResult
	cfg, err := config.Parse(file, src)
	if err != nil {
		return nil, res, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, res, fmt.Errorf("parse %s: %w", file, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, res, fmt.Errorf("%s: the top level is not a mapping", file)
	}
	doc := root.Content[0]
	members := mapValue(doc, "members")
	if members == nil || members.Kind != yaml.SequenceNode || len(members.Content) == 0 || members.Style&yaml.FlowStyle != 0 {
		return nil, res, fmt.Errorf("%s: import needs a block list of members: to add to", file)
	}
	have := map[string]bool{}
	ids := map[string]bool{}
	for _, m := range cfg.Members {
		ids[m.ID] = true
		for _, s := range m.Sources {
			have[s.Feed], have[s.Page] = true, true
		}
	}
	lines := strings.SplitAfter(string(src), "\n")
	if !strings.HasSuffix(string(src), "\n") {
		lines[len(lines)-1] += "\n"
	}
	inserts := map[int][]string{} // after line n (1-based): lines to insert
	var newMembers []*yaml.Node
	// The sources of the members this import creates, by homepage host: a site's
	// other feeds join its new member, as they would join it in a later import.
	newByHost := map[string]*yaml.Node{}
	newIDs := map[*yaml.Node]string{}
	for _, f := range feeds {
		if have[f.XMLURL] {
			res.Skipped = append(res.Skipped, f.XMLURL)
			continue
		}
		have[f.XMLURL] = true
		if i := memberByHost(cfg.Members, f); i >= 0 {
			mn := members.Content[i]
			if mn.Kind != yaml.MappingNode || mn.Style&yaml.FlowStyle != 0 {
				return nil, res, fmt.Errorf("%s:%d: member %s is written in flow style; add %s by hand", file, mn.Line, cfg.Members[i].ID, f.XMLURL)
			}
			sources := mapValue(mn, "sources")
			var text string
			last := endLine(lines, mn)
			switch {
			case sources != nil && sources.Kind == yaml.SequenceNode && len(sources.Content) > 0 && sources.Style&yaml.FlowStyle == 0:
				text = strings.Repeat(" ", sources.Content[0].Column-3) + "- feed: " + yamlScalar(f.XMLURL) + "\n"
				// After the list's last source: other keys of the member may follow it.
				last = endLine(lines, sources.Content[len(sources.Content)-1])
			case sources == nil:
				text = strings.Repeat(" ", mn.Content[0].Column-1) + "sources:\n" + strings.Repeat(" ", mn.Content[0].Column+1) + "- feed: " + yamlScalar(f.XMLURL) + "\n"
			default:
				return nil, res, fmt.Errorf("%s:%d: the sources of %s are not a block list; add %s by hand", file, sources.Line, cfg.Members[i].ID, f.XMLURL)
			}
			inserts[last] = append(inserts[last], text)
			res.Added = append(res.Added, cfg.Members[i].ID+": "+f.XMLURL)
			continue
		}
		if seq := cmp.Or(newByHost[host(f.HTMLURL)], newByHost[host(f.XMLURL)]); seq != nil {
			seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "feed"}, {Kind: yaml.ScalarNode, Value: f.XMLURL}}})
			res.Added = append(res.Added, newIDs[seq]+": "+f.XMLURL)
			continue
		}
		id := uniqueID(memberID(f), ids)
		ids[id] = true
		m := &yaml.Node{Kind: yaml.MappingNode}
		add := func(k, v string) {
			if v != "" {
				m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
			}
		}
		add("id", id)
		add("name", f.Title)
		add("country", f.Country)
		add("region", f.Region)
		add("homepage", f.HTMLURL)
		src := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "feed"}, {Kind: yaml.ScalarNode, Value: f.XMLURL}}}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{src}}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "sources"}, seq)
		if h := host(f.HTMLURL); h != "" {
			newByHost[h], newIDs[seq] = seq, id
		}
		m.HeadComment = "imported from OPML"
		newMembers = append(newMembers, m)
		res.NewMembers = append(res.NewMembers, id)
	}
	if len(newMembers) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Content: newMembers}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(seq); err != nil {
			return nil, res, fmt.Errorf("encode new members: %w", err)
		}
		indent := strings.Repeat(" ", members.Content[0].Column-3)
		var text strings.Builder // not +=: thousands of members made that quadratic
		text.WriteString("\n")
		for _, l := range strings.SplitAfter(buf.String(), "\n") {
			if l != "" {
				text.WriteString(indent + l)
			}
		}
		last := endLine(lines, members.Content[len(members.Content)-1])
		inserts[last] = append(inserts[last], text.String())
	}
	// The file's line ends, for the lines inserted too.
	crlf := strings.HasSuffix(lines[0], "\r\n")
	var out strings.Builder
	for i, l := range lines {
		out.WriteString(l)
		for _, ins := range inserts[i+1] {
			if crlf {
				ins = strings.ReplaceAll(ins, "\n", "\r\n")
			}
			out.WriteString(ins)
		}
	}
	b := []byte(out.String())
	if _, err := config.Parse(file, b); err != nil {
		return nil, res, fmt.Errorf("the imported config would not be valid (nothing written): %w", err)
	}
	return b, res, nil
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// lastLine is the last line a node's content occupies (its trailing comments excluded).
func lastLine(n *yaml.Node) int {
	last := n.Line
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		last += strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
	}
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}

// endLine is the last line of the block mapping n in lines: its lastLine, then the lines
// that continue its last value, which the node tree does not mark (a quoted or plain
// scalar written over several lines, a flow collection's closing bracket): those indented
// deeper than n's keys, or at their indent closing a flow collection, and the blank lines
// between them.
func endLine(lines []string, n *yaml.Node) int {
	end := lastLine(n)
	for i := end; i < len(lines); i++ { // lines[i] is line i+1
		l := strings.TrimRight(lines[i], "\r\n")
		text := strings.TrimLeft(l, " ")
		indent := len(l) - len(text)
		switch {
		case text == "":
			continue
		case indent >= n.Column, indent == n.Column-1 && (text[0] == ']' || text[0] == '}'):
			end = i + 1
		default:
			return end
		}
	}
	return end
}

// memberByHost finds the member whose homepage host is the feed's site host.
func memberByHost(ms []config.Member, f opmlFeed) int {
	hosts := []string{host(f.HTMLURL), host(f.XMLURL)}
	for i, m := range ms {
		if h := host(m.Homepage); h != "" && slices.Contains(hosts, h) {
			return i
		}
	}
	return -1
}

func host(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(p.Hostname()), "www.")
}

var nonID = regexp.MustCompile(`[^a-z0-9]+`)

// memberID is the id a new member gets from its feed: its title's words, else (a title
// in Hebrew or Japanese, say) its site's host name, rather than "imported-7".
func memberID(f opmlFeed) string {
	if id := slug(f.Title); id != "" {
		return id
	}
	if id := slug(cmp.Or(host(f.HTMLURL), host(f.XMLURL))); id != "" {
		return id
	}
	return "imported"
}

func slug(s string) string {
	// Accents off the letters: Sénégal is senegal, not s-n-gal. (A chain is not safe
	// for concurrent use: one per call.)
	if t, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s); err == nil {
		s = t
	}
	s = strings.Trim(nonID.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	return s
}

func uniqueID(id string, taken map[string]bool) string {
	if !taken[id] {
		return id
	}
	for n := 2; ; n++ {
		if c := fmt.Sprintf("%s-%d", id, n); !taken[c] {
			return c
		}
	}
}

// yamlScalar writes s as a plain or quoted YAML scalar, as yaml.v3 would.
func yamlScalar(s string) string {
	b, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func runImportOPML(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs, c := newFlags("import-opml", env)
	dry := fs.Bool("dry-run", false, "print the new feeds.yaml instead of writing it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf(fs, "needs one OPML file, got %d arguments", fs.NArg())
	}
	in, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("import opml: %w", err)
	}
	defer in.Close()
	feeds, err := readOPML(in)
	if err != nil {
		return fmt.Errorf("read %s: %w", fs.Arg(0), err)
	}
	src, err := os.ReadFile(c.config)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	out, res, err := importOPML(c.config, src, feeds)
	if err != nil {
		return err
	}
	if *dry {
		// stdout is the config alone, to be redirected to a file; the summary goes to
		// stderr.
		if _, err := stdout.Write(out); err != nil {
			return err
		}
		importSummary(stderr, c.config, fs.Arg(0), len(feeds), res, true)
		return nil
	}
	if len(res.Added)+len(res.NewMembers) > 0 {
		if err := saveConfig(filepath.Clean(c.config), out); err != nil {
			return err
		}
	}
	importSummary(stdout, c.config, fs.Arg(0), len(feeds), res, false)
	return nil
}

// importSummary says what an import did, or on a dry run would have done.
func importSummary(w io.Writer, config, opml string, feeds int, res importResult, dry bool) {
	added, member, counts := "added feed to %s\n", "new member %s (check its country, region and languages)\n", "%d added to members, %d new members"
	if dry {
		added, member, counts = "would add feed to %s\n", "would add new member %s (check its country, region and languages)\n", "%d would be added to members, %d would be new members"
	}
	for _, a := range res.Added {
		fmt.Fprintf(w, added, a)
	}
	for _, id := range res.NewMembers {
		fmt.Fprintf(w, member, id)
	}
	fmt.Fprintf(w, "%s: %d feeds in %s: "+counts+", %d already listed\n",
		config, feeds, opml, len(res.Added), len(res.NewMembers), len(res.Skipped))
	if dry {
		fmt.Fprintf(w, "dry run: nothing written to %s\n", config)
	}
}
