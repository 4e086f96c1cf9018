// Package identity is the one place that decides who an item is: its canonical link,
// its Key within its member, its public permanent ID, and whether two items of
// different members tell the same story (MinHash signatures with LSH bands).
package identity

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/PuerkitoBio/purell"

	"github.com/iss-network/networkfeed/internal/news"
)

// trackingParams are query parameters that identify a campaign or a click, never a page.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "mc_cid": true, "mc_eid": true, "igshid": true,
	"_ga": true, "ref": true, "yclid": true, "msclkid": true,
}

func isTracking(key string) bool {
	k := strings.ToLower(key)
	return strings.HasPrefix(k, "utm_") || trackingParams[k] || sessionParams[k]
}

// sessionParams name a server's session ID written into links (PHP's trans_sid,
// servlets' URL rewriting) for a client that keeps no session cookie: the poller keeps
// none, so each poll would bring every link with another ID, and every item anew.
var sessionParams = map[string]bool{"jsessionid": true, "phpsessid": true}

// dropSessionParams removes the ";jsessionid=…" path parameter that Java servers
// (Tomcat, Jetty, Liferay) write into every link of a page served without their session
// cookie (see sessionParams), keeping any other path parameter.
func dropSessionParams(path string) string {
	if !strings.Contains(path, ";") {
		return path
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		name, params, ok := strings.Cut(seg, ";")
		if !ok {
			continue
		}
		kept := []string{name}
		for p := range strings.SplitSeq(params, ";") {
			k, _, _ := strings.Cut(p, "=")
			if !sessionParams[strings.ToLower(k)] {
				kept = append(kept, p)
			}
		}
		segs[i] = strings.Join(kept, ";")
	}
	return strings.Join(segs, "/")
}

// purellFlags are the normalisations purell does for Canonical; the query (tracking
// parameters, order), the scheme and the trailing slash are handled here.
const purellFlags = purell.FlagLowercaseScheme | purell.FlagLowercaseHost |
	purell.FlagUppercaseEscapes | purell.FlagDecodeUnnecessaryEscapes | purell.FlagEncodeNecessaryEscapes |
	purell.FlagRemoveDefaultPort | purell.FlagRemoveEmptyQuerySeparator | purell.FlagRemoveDotSegments |
	purell.FlagRemoveFragment | purell.FlagRemoveDuplicateSlashes | purell.FlagRemoveWWW |
	purell.FlagRemoveUnnecessaryHostDots | purell.FlagRemoveEmptyPortSeparator

// Canonical returns the form of an http(s) link that identifies the page it names:
// "https://" + lower-case host without "www." and without its default port, the path
// with dot segments and duplicate slashes resolved and no trailing slash (the root is
// "/"), tracking parameters (utm_*, fbclid, gclid, mc_cid, mc_eid, igshid, _ga, ref,
// yclid, msclkid) and session IDs (PHPSESSID, jsessionid, also as the ";jsessionid="
// path parameter) removed and the remaining query parameters sorted, no fragment and
// no user info. http and https links to the same page are the same page. Anything
// that is not an absolute http(s) URL with a host (whose labels DNS allows: at most
// 63 bytes each) gives "".
//
// A Joomla article link without SEF URLs (index.php?option=com_content&view=article&
// id=245:kafala-mission&catid=12&Itemid=101) is known by its article's number alone:
// "id=245&option=com_content&view=article". Itemid (the menu entry the link was made
// under: it changes when the site's menus are reorganised), catid (when the article
// moves category), the id's ":alias" (when an editor renames it) and tmpl (the page
// template around the same article, tmpl=component for a print or modal view) name
// no other article; Joomla finds the article by its number. Other parameters stay:
// lang, with which translation extensions (Falang, JoomFish) serve another language
// of the same article number, and limitstart or showall, another page of it. A link
// without option=com_content&view=article and one numeric id, or whose path is not
// index.php or the root, is not such a link (index.php?Itemid=101 alone names the
// article of that menu entry).
//
// A K2 item link (index.php?option=com_k2&view=item&id=245:kafala-mission&Itemid=101)
// is known by its item's number the same way: "id=245&option=com_k2&view=item", the
// same parameters dropped and kept; K2 too finds the item by its number. One with a
// task (task=download's id is an attachment's, with its hash; task=edit) is not such a
// link, nor K2's lists (view=itemlist).
//
// Canonical is idempotent: Canonical(Canonical(s)) == Canonical(s).
func Canonical(raw string) string { return canonical(raw, true) }

// EarlierCanonical returns the canonical link earlier versions (before Joomla article
// links, then K2 item links, were known by their number) gave raw, when it is not
// Canonical(raw), else "". Items those versions stored are keyed and indexed by it.
func EarlierCanonical(raw string) string {
	if !mentionsJoomla(raw) {
		return ""
	}
	if c := canonical(raw, false); c != canonical(raw, true) {
		return c
	}
	return ""
}

// Recanonical returns this version's canonical form of link, a canonical link that an
// earlier version stored: link itself unless that form has changed since (a Joomla
// article or K2 item link, see Canonical).
func Recanonical(link string) string {
	if !mentionsJoomla(link) {
		return link
	}
	if c := Canonical(link); c != "" {
		return c
	}
	return link
}

// CurrentKey returns key, a Key earlier versions may have given an item (Assign's
// forms: "url:"+link, "url:"+link+" title:"+hash, "guid:"+GUID+" "+link), with its
// canonical link in this version's form (Recanonical); key itself when that is the
// same.
func CurrentKey(key string) string {
	if !mentionsJoomla(key) {
		return key
	}
	var link string
	switch {
	case strings.HasPrefix(key, "url:"):
		link, _, _ = strings.Cut(key[len("url:"):], " title:")
	case strings.HasPrefix(key, "guid:"):
		i := strings.LastIndexByte(key, ' ')
		if i < 0 || !strings.HasPrefix(key[i+1:], "https://") {
			return key
		}
		link = key[i+1:]
	default:
		return key
	}
	if c := Recanonical(link); c != link {
		if k := KeyWithLink(key, link, c); k != "" {
			return k
		}
	}
	return key
}

// KeyWithLink returns key, given to an item whose canonical link is from, with that
// link replaced by to (see CurrentKey for the forms), or "" when key holds no link.
func KeyWithLink(key, from, to string) string {
	switch {
	case from == "":
		return ""
	case key == "url:"+from:
		return "url:" + to
	case strings.HasPrefix(key, "url:"+from+" title:"):
		return "url:" + to + key[len("url:")+len(from):]
	case strings.HasPrefix(key, "guid:") && strings.HasSuffix(key, " "+from):
		return key[:len(key)-len(from)] + to
	}
	return ""
}

// mentionsJoomla reports whether s may hold a Joomla article or K2 item link: a quick
// test before a parse.
func mentionsJoomla(s string) bool {
	for i := 3; i+3 <= len(s); i++ {
		j := strings.IndexByte(s[i:], '_')
		if j < 0 {
			return false
		}
		i += j
		if i+8 <= len(s) && strings.EqualFold(s[i-3:i+8], "com_content") ||
			i+3 <= len(s) && strings.EqualFold(s[i-3:i+3], "com_k2") {
			return true
		}
	}
	return false
}

// joomlaPath reports whether a URL path is one a Joomla site without SEF URLs serves
// its pages from: index.php, or the site's root. (A directory's "/fr/?option=…" is not:
// Canonical drops its trailing slash, and "/fr" could be any page.)
func joomlaPath(p string) bool {
	return p == "" || p == "/" || strings.EqualFold(p[strings.LastIndexByte(p, '/')+1:], "index.php")
}

// joomlaDropped are the parameters of a Joomla article or K2 item link that name no
// other article (see Canonical), lower-cased.
var joomlaDropped = map[string]bool{"itemid": true, "catid": true, "tmpl": true}

func canonical(raw string, joomla bool) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || !utf8.ValidString(raw) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		return ""
	}
	u.User = nil
	u.Host = strings.ToLower(u.Host)
	if strings.Trim(u.Hostname(), ".") == "" {
		return ""
	}
	q, ok := canonicalQuery(u.RawQuery, joomla && joomlaPath(u.Path))
	if !ok {
		return ""
	}
	u.RawQuery, u.ForceQuery = q, false
	u.RawFragment, u.Fragment = "", ""
	u.Path = dropSessionParams(u.Path)
	u.RawPath = "" // let purell escape Path its own way
	// The port is kept here, not given to purell: its IDNA step reads the host with
	// its port as one name, and failed on an xn-- last label before a port
	// ("xn--p1ai:8080"), so Canonical of "http://пример.рф:8080/" was not idempotent
	// (found by FuzzCanonical). Both schemes become https: 443 is dropped too.
	port := u.Port()
	u.Host = strings.TrimSuffix(u.Host, ":"+port)
	if port == "443" || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	s, err := purell.NormalizeURLString(u.String(), purellFlags)
	if err != nil {
		return ""
	}
	// Second pass on the parsed result, whose host is made https's.
	v, err := url.Parse(s)
	if err != nil || v.Hostname() == "" {
		return ""
	}
	host := strings.TrimRight(v.Hostname(), ".")
	// Every leading "www.", not one: purell removed one already, and a host left
	// starting with "www." lost it in Canonical of the result, which was then not
	// idempotent ("www.www.www.s" gave "https://www.s/"; found by FuzzCanonical).
	for strings.HasPrefix(host, "www.") {
		host = host[len("www."):]
	}
	if host == "" || !dnsLabels(host) {
		return ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	p := strings.TrimRight(v.EscapedPath(), "/")
	if p == "" {
		p = "/"
	}
	out := "https://" + host + p
	if v.RawQuery != "" {
		out += "?" + v.RawQuery
	}
	return out
}

// dnsLabels reports whether no label of host is longer than DNS allows (63 bytes):
// no page is served from such a name, and purell's IDNA step gives a long label with
// a non-ASCII letter an xn-- form that it then rejects, so Canonical of the result
// was "" (not idempotent; found by FuzzCanonical).
func dnsLabels(host string) bool {
	for label := range strings.SplitSeq(host, ".") {
		if len(label) > 63 {
			return false
		}
	}
	return true
}

// canonicalQuery drops tracking parameters and empty pairs, re-escapes every pair the
// way url.QueryEscape does and sorts them (by key, then value). With joomla, the query
// of a Joomla article link keeps only what names the article (see Canonical). It
// reports false for a query that cannot be decoded.
func canonicalQuery(raw string, joomla bool) (string, bool) {
	if raw == "" {
		return "", true
	}
	var pairs []queryPair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, hasEq := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return "", false
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return "", false
		}
		if dk == "" || isTracking(dk) {
			continue
		}
		pairs = append(pairs, queryPair{dk, dv, hasEq})
	}
	if joomla {
		if id, ok := joomlaArticle(pairs); ok {
			pairs = slices.DeleteFunc(pairs, func(p queryPair) bool { return joomlaDropped[strings.ToLower(p.k)] })
			for i := range pairs {
				if pairs[i].k == "id" {
					pairs[i].v = id
				}
			}
		}
	}
	type escaped struct{ k, v string }
	enc := make([]escaped, len(pairs))
	for i, p := range pairs {
		enc[i].k = url.QueryEscape(p.k)
		if p.hasEq {
			enc[i].v = "=" + url.QueryEscape(p.v)
		}
	}
	slices.SortFunc(enc, func(a, b escaped) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteString(p.v)
	}
	return b.String(), true
}

// queryPair is a query parameter, decoded.
type queryPair struct {
	k, v  string
	hasEq bool
}

// joomlaArticle reports whether a query's parameters are those of a Joomla article
// link (option=com_content, view=article) or a K2 item link (option=com_k2, view=item,
// no task), with an id that starts with the article's number, each once. It returns
// that number.
func joomlaArticle(params []queryPair) (string, bool) {
	var options, views, ids, tasks int
	var option, view, id string
	for _, p := range params {
		k, v := p.k, p.v
		switch k {
		case "option":
			options++
			option = v
		case "view":
			views++
			view = v
		case "id":
			ids++
			// Joomla reads "245:alias" (and "245-alias") as the number 245.
			id = strings.TrimLeft(v[:len(v)-len(strings.TrimLeft(v, "0123456789"))], "0")
		case "task":
			tasks++
		}
	}
	if options != 1 || views != 1 || ids != 1 || id == "" {
		return "", false
	}
	switch {
	case strings.EqualFold(option, "com_content"):
		return id, strings.EqualFold(view, "article")
	case strings.EqualFold(option, "com_k2"):
		return id, strings.EqualFold(view, "item") && tasks == 0
	}
	return "", false
}

// Key is the identity of an item within its member:
//
//   - "guid:"+GUID when the source's GUIDs are stable (see StableGUIDs) and the item has one;
//   - else "url:"+Canonical(Link) when the item has a usable link;
//   - else "hash:" + the first 32 hex digits of sha256(normalised title, NUL, the
//     published date written at its precision), so that undated items are keyed by
//     title alone.
func Key(it news.Item, stableGUIDs bool) string {
	if g := strings.TrimSpace(it.GUID); stableGUIDs && g != "" {
		return "guid:" + g
	}
	if c := Canonical(it.Link); c != "" {
		return "url:" + c
	}
	return "hash:" + contentHash(it)
}

// titleHash is the first 32 hex digits of the sha256 of a normalised title.
func titleHash(title string) string {
	sum := sha256.Sum256([]byte(normTitle(title)))
	return hex.EncodeToString(sum[:])[:32]
}

// contentHash hashes an item's normalised title and its date at its precision.
func contentHash(it news.Item) string {
	sum := sha256.Sum256([]byte(normTitle(it.Title) + "\x00" + dateAtPrecision(it)))
	return hex.EncodeToString(sum[:])[:32]
}

func dateAtPrecision(it news.Item) string {
	if it.Published.IsZero() {
		return ""
	}
	t := it.Published.UTC()
	switch it.Precision {
	case news.PrecisionExact:
		return t.Format("2006-01-02T15:04:05Z")
	case news.PrecisionDay:
		return t.Format("2006-01-02")
	case news.PrecisionMonth:
		return t.Format("2006-01")
	default: // PrecisionNone: Published is when the item was first seen, not part of it
		return ""
	}
}

// SameTitle reports whether two titles are the same once lower-cased, with accents
// folded and white space collapsed.
func SameTitle(a, b string) bool { return normTitle(a) == normTitle(b) }

// SharedLinkKey reports whether key is one Assign gave an item whose link another item
// of its poll, with another title, had too (SharedLinkKeyOf): the link alone does not
// name that item.
func SharedLinkKey(key string) bool {
	return strings.HasPrefix(key, "url:") && strings.Contains(key, " title:")
}

// SharedLinkKeyOf is the key Assign gives it when another item of its poll, with another
// title, has its link: "url:"+canonical link+" title:"+hash of the normalised title.
func SharedLinkKeyOf(it news.Item) string {
	return "url:" + it.Canonical + " title:" + titleHash(it.Title)
}

// normTitle lower-cases, folds accents and collapses white space.
func normTitle(s string) string {
	return strings.Join(strings.Fields(Fold(s)), " ")
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ID is the public permanent ID of the item keyed key in member: "nf-" followed by 20
// lower-case base32 characters (100 bits) of sha256(member, NUL, key). It is stable,
// URL-safe and reveals nothing of the key.
func ID(member, key string) string {
	sum := sha256.Sum256([]byte(member + "\x00" + key))
	return "nf-" + strings.ToLower(idEncoding.EncodeToString(sum[:])[:20])
}

// StableGUIDs reports whether a source's GUIDs, as seen in one poll, can key its
// items: false when a GUID repeats or when most items have none.
func StableGUIDs(guids []string) bool {
	seen := make(map[string]bool, len(guids))
	empty := 0
	for _, g := range guids {
		g = strings.TrimSpace(g)
		if g == "" {
			empty++
			continue
		}
		if seen[g] {
			return false
		}
		seen[g] = true
	}
	return empty*2 <= len(guids)
}

// Assign keys the items of one poll of one source of member, in place: it sets
// Member (when empty), Canonical, Key and ID on each item, and returns items with
// exact duplicates (the same Key) dropped, the first kept, reusing items' array.
//
// GUIDs key the items when most items have one. An item whose GUID repeats within
// the poll is keyed by its GUID and its canonical link ("guid:"+GUID+" "+link), or
// by GUID and content hash when it has no link, so that a CMS that gives every item
// the same GUID does not collapse them; items with unique GUIDs keep "guid:"+GUID so
// their Keys do not change between polls. When most items have no GUID, every item
// is keyed by Key(it, false). Likewise, items keyed by a link that another item of
// the poll with another title also has (a feed whose every item links to the member's
// homepage) are keyed by link and title ("url:"+link+" title:"+hash of the normalised
// title): only repeats of one title collapse, dated or not (a page's "latest news" box
// listing its articles again).
func Assign(items []news.Item, member string) []news.Item {
	count := make(map[string]int, len(items))
	empty := 0
	for i := range items {
		g := strings.TrimSpace(items[i].GUID)
		if g == "" {
			empty++
			continue
		}
		count[g]++
	}
	useGUIDs := empty*2 <= len(items)
	// The links of items keyed by link, with the first item of each: a link is shared
	// when an item with another title has it too.
	var first map[string]int
	var shared map[string]bool
	for i := range items {
		it := &items[i]
		it.Canonical = Canonical(it.Link)
		if g := strings.TrimSpace(it.GUID); useGUIDs && g != "" {
			continue
		}
		c := it.Canonical
		if c == "" || shared[c] {
			continue
		}
		if first == nil {
			first = make(map[string]int, len(items))
		}
		if j, ok := first[c]; !ok {
			first[c] = i
		} else if normTitle(items[j].Title) != normTitle(it.Title) {
			if shared == nil {
				shared = map[string]bool{}
			}
			shared[c] = true
		}
	}

	seen := make(map[string]bool, len(items))
	out := items[:0]
	for _, it := range items {
		if it.Member == "" {
			it.Member = member
		}
		g := strings.TrimSpace(it.GUID)
		switch {
		case useGUIDs && g != "" && count[g] > 1:
			if it.Canonical != "" {
				it.Key = "guid:" + g + " " + it.Canonical
			} else {
				it.Key = "guid:" + g + " hash:" + contentHash(it)
			}
		case shared[it.Canonical] && (!useGUIDs || g == ""):
			it.Key = SharedLinkKeyOf(it)
		default:
			it.Key = Key(it, useGUIDs)
		}
		if seen[it.Key] {
			continue
		}
		seen[it.Key] = true
		it.ID = ID(member, it.Key)
		out = append(out, it)
	}
	clear(items[len(out):]) // let dropped items be collected
	return out
}
