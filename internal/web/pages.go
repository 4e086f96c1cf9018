package web

import (
	"cmp"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
)

// pageRoutes registers the HTML pages and the dashboard's data.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.river)
	mux.HandleFunc("GET /members/{id}", s.memberPage)
	mux.HandleFunc("GET /sources", s.sources)
	handlePublic(mux, "/sources.json", s.sourcesJSON) // readable from other sites' scripts
	handlePublic(mux, "/sources.csv", s.sourcesCSV)
	handlePublic(mux, "/sources/alerts.atom", s.alertsFeed)
}

// Typed views: templates never see maps of anything.

// Page holds what every page's layout needs.
type Page struct {
	Title      string
	Network    string
	Lang       string // the interface language, for <html lang>
	StyleURL   string
	Path       string
	NetworkURL string
	// L translates and formats for the reader's interface language.
	L *locale
	// Languages links this page in each interface language.
	Languages []langLink
	HomeURL   string
	SourceURL string
	// Alternates are the page's feeds for autodiscovery (<link rel="alternate">), the
	// feeds of the page's own selection first: a reader given the page subscribes to
	// the first.
	Alternates []alternateLink
}

// alternateLink is one <link rel="alternate"> of a page; Format is a feed format name
// ("rss", "atom", "json"), its media type written by the layout (html/template would
// write the "+" of a media type given as data as "&#43;", which naive autodiscovery
// does not match).
type alternateLink struct{ Title, Format, URL string }

// feedKinds are the feed formats pages link to, in the order they are listed;
// networkFeedKinds those of the network's feeds, Atom first (autodiscovery takes the
// first), in the layout and on the share page.
var (
	feedKinds        = []struct{ label, ext string }{{"RSS", "rss"}, {"Atom", "atom"}, {"JSON Feed", "json"}}
	networkFeedKinds = []struct{ label, ext string }{{"Atom", "atom"}, {"RSS", "rss"}, {"JSON Feed", "json"}}
)

// withSelectionFeeds puts the feeds of a page's selection (the feed.EXT addresses at
// prefix, with query) before the network's in its autodiscovery links, under title, and
// returns them as the page's subscribe links.
func (p *Page) withSelectionFeeds(title, prefix, query string) []feedLink {
	var links []feedLink
	var alts []alternateLink
	for _, f := range feedKinds {
		u := withQuery(prefix+"feed."+f.ext, query)
		links = append(links, feedLink{f.label, u})
		alts = append(alts, alternateLink{title + " (" + f.label + ")", f.ext, u})
	}
	p.Alternates = append(alts, p.Alternates...)
	return links
}

// page is the layout data of a page in the reader's language (see chooseLocale).
func (s *Server) page(r *http.Request, title string) Page { return s.pageIn(r, chooseLocale(r), title) }

func (s *Server) pageIn(r *http.Request, l *locale, title string) Page {
	cfg := s.config()
	p := Page{Title: title, Network: cfg.Network.Title, Lang: l.Code, StyleURL: s.static.URL("style.css"), Path: r.URL.Path,
		NetworkURL: cfg.Network.URL, L: l, Languages: l.switcher(r), HomeURL: l.URL("/"), SourceURL: l.URL("/sources")}
	for _, f := range networkFeedKinds {
		p.Alternates = append(p.Alternates, alternateLink{cfg.Network.Title + " (" + f.label + ")", f.ext, "/feed." + f.ext})
	}
	return p
}

// funcs are the template functions; everything language-dependent goes through Page.L.
func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{"join": strings.Join}
}

type memberView struct {
	ID, Name, Country, CountryName, Region, Homepage, URL string
	Languages                                             []string
	Selected                                              bool
}

type optionView struct {
	Value, Label string
	Selected     bool
}

type itemView struct {
	news.Item
	MemberName   string
	MemberURL    string
	CountryName  string
	CountryURL   string
	LanguageName string
	LanguageURL  string
	Date         string // as shown: "5 March 2026", "May 2017", "first seen 3 March 2026"
	DateISO      string
	Also         string // "Also published by ISS Japan, ISS USA", or ""
}

// itemsView is what the "items" template needs.
type itemsView struct {
	L     *locale
	Items []itemView
	Empty string // what an empty list says: why there is nothing to show
}

type riverView struct {
	Page
	List      itemsView
	Members   []optionView
	Countries []optionView
	Regions   []optionView
	Languages []optionView
	Filter    filterView
	Filtered  bool
	ClearURL  string
	NextURL   string
	FirstURL  string
	FeedURLs  []feedLink
}

type filterView struct {
	Member, Country, Region, Lang, Q string
	// Kept are the selection's parameters the form has no field for (category, since,
	// limit: from a link or a feed's address), kept as hidden fields so that changing
	// the filters in the form does not drop them.
	Kept []keptParam
}

type keptParam struct{ Name, Value string }

type feedLink struct{ Label, URL string }

// dateText shows an item's date as precisely as the source gave it, its day in loc, the
// zone of its source (see config.Member.Location).
func dateText(l *locale, it *news.Item, loc *time.Location) string {
	switch it.Precision {
	case news.PrecisionMonth:
		return l.Month(it.Published)
	case news.PrecisionNone:
		return l.T("first seen %s", l.DateIn(it.FirstSeen, loc))
	}
	return l.DateIn(it.Published, loc)
}

// itemLocation is the zone of the source an item came from.
func itemLocation(m *config.Member, it *news.Item) *time.Location {
	if m == nil {
		return time.UTC
	}
	for _, src := range m.AllSources() {
		if src.URL() == it.Source {
			return m.Location(src)
		}
	}
	return m.Location(config.Source{})
}

// localItemViews shows items with dates, names and links in the reader's language.
func (s *Server) localItemViews(cfg *config.Config, l *locale, items []news.Item) []itemView {
	out := make([]itemView, len(items))
	// Members by ID, once per list: a page of 500 items would otherwise walk the
	// members (and copy each) for every item, its zone and its AlsoBy.
	rf := s.riverFilters(cfg)
	rf.withoutUnlisted(items)
	byID := rf.byID
	for i, it := range items {
		m := byID[it.Member]
		v := itemView{Item: it, Date: dateText(l, &it, itemLocation(m, &it)), DateISO: rfc(it.SortTime()), MemberName: it.Member,
			MemberURL: l.URL("/members/" + url.PathEscape(it.Member))}
		if m != nil {
			v.MemberName = m.Name
		}
		if it.Country != "" {
			v.CountryName = l.Country(it.Country)
			v.CountryURL = l.URL("/?country=" + url.QueryEscape(it.Country))
		}
		if it.Language != "" {
			v.LanguageName = l.Language(it.Language)
			v.LanguageURL = l.URL("/?lang=" + url.QueryEscape(it.Language))
		}
		var also []string
		for _, id := range it.AlsoBy {
			if m, ok := byID[id]; ok {
				also = append(also, m.Name)
			} else {
				also = append(also, id)
			}
		}
		if len(also) > 0 {
			v.Also = l.T("Also published by %s", strings.Join(also, ", "))
		}
		out[i] = v
	}
	return out
}

// htmlHeaders marks a page as varying with the reader's language.
func htmlHeaders(w http.ResponseWriter, l *locale) {
	w.Header().Set("Vary", "Accept-Language")
	w.Header().Set("Content-Language", l.Code)
	w.Header().Set("Cache-Control", "no-cache")
}

func (s *Server) river(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	l := chooseLocale(r)
	q, err := s.parseQuery(r.URL.Query(), cfg, 30)
	if err != nil {
		s.failPage(w, r, l, err)
		return
	}
	q.Clustered = clustered(q)
	keep, ok := s.storePage(w, r, cfg, l)
	if !ok {
		return
	}
	items, more, err := s.pageOf(r.Context(), q)
	if err != nil {
		s.failPage(w, r, l, err)
		return
	}
	v := riverView{Page: s.pageIn(r, l, cfg.Network.Title), List: itemsView{L: l, Items: s.localItemViews(cfg, l, items)}}
	v.Filter = filterView{Member: strings.Join(q.Members, ","), Country: q.Country, Region: q.Region, Lang: q.Language, Q: q.Text}
	for _, name := range []string{"category", "since", "limit"} {
		if val := r.URL.Query().Get(name); val != "" {
			v.Filter.Kept = append(v.Filter.Kept, keptParam{name, val})
		}
	}
	v.Filtered = v.Filter.Member != "" || v.Filter.Country != "" || v.Filter.Region != "" || v.Filter.Lang != "" ||
		v.Filter.Q != "" || q.Category != "" || !q.Since.IsZero()
	v.ClearURL = l.URL("/")
	switch {
	case !q.Before.IsZero(): // the newer pages had news, filtered or not
		v.List.Empty = l.T("No older news.")
	case v.Filtered:
		v.List.Empty = l.T("No news matches these filters.")
	default:
		v.List.Empty = l.T("No news yet: the sources have not been polled, or have published nothing.")
	}
	s.fillFilters(cfg, l, &v)
	if more {
		last := items[len(items)-1]
		nv := r.URL.Query()
		nv.Set("before", formatCursor(news.Cursor{Time: last.SortTime(), ID: last.ID}))
		v.NextURL = "/?" + l.keep(pageQuery(nv)).Encode()
	}
	if r.URL.Query().Get("before") != "" {
		nv := r.URL.Query()
		nv.Del("before")
		v.FirstURL = withQuery("/", l.keep(pageQuery(nv)).Encode())
	}
	if fq := feedQuery(r.URL.Query()); fq != "" {
		v.FeedURLs = v.Page.withSelectionFeeds(l.T("%s, this selection", cfg.Network.Title), cfg.Network.URL, fq)
	} else {
		for _, f := range feedKinds {
			v.FeedURLs = append(v.FeedURLs, feedLink{f.label, cfg.Network.URL + "feed." + f.ext})
		}
	}
	htmlHeaders(w, l)
	s.render(w, r, "river.html", http.StatusOK, v, keep)
}

// pageQuery keeps a river page's filters and paging in canonical order.
func pageQuery(v url.Values) url.Values {
	out := url.Values{}
	for _, k := range filterKeys {
		if s := param(v, k); s != "" {
			out.Set(k, s)
		}
	}
	return out
}

// feedQuery keeps the filters of a page for its feed links (not its paging).
func feedQuery(v url.Values) string {
	c := url.Values{}
	for _, k := range []string{"member", "country", "region", "lang", "category", "q"} {
		if s := param(v, k); s != "" {
			c.Set(k, s)
		}
	}
	return c.Encode()
}

// memberOptions are the member select's options with selected ("a" or "a,b") chosen.
// Several members (member=a,b, from a link or a feed's address) are one option of their
// own, first: the select takes one value, so a browser would send only the last option
// marked selected, and the next submission of the form would drop the others.
func (f *riverFilters) memberOptions(selected string) []optionView {
	if ids := strings.Split(selected, ","); len(ids) > 1 {
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = id
			if m, ok := f.byID[id]; ok {
				names[i] = m.Name
			}
		}
		return append([]optionView{{Value: selected, Label: strings.Join(names, ", "), Selected: true}}, f.members...)
	}
	i, ok := f.index[selected]
	if !ok {
		return f.members // shared: never written
	}
	opts := slices.Clone(f.members)
	opts[i].Selected = true
	return opts
}

func (s *Server) fillFilters(cfg *config.Config, l *locale, v *riverView) {
	f := s.riverFilters(cfg)
	v.Members = f.memberOptions(v.Filter.Member)
	byLabel := func(a, b optionView) int { return cmp.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) }
	for _, c := range f.countries {
		v.Countries = append(v.Countries, optionView{Value: c, Label: l.Country(c), Selected: c == v.Filter.Country})
	}
	slices.SortFunc(v.Countries, byLabel)
	for _, rg := range f.regions {
		v.Regions = append(v.Regions, optionView{Value: rg, Label: rg, Selected: rg == v.Filter.Region})
	}
	for _, lg := range f.languages {
		v.Languages = append(v.Languages, optionView{Value: lg, Label: l.Language(lg), Selected: lg == v.Filter.Lang})
	}
	slices.SortFunc(v.Languages, byLabel)
}

// riverFilters are what the river's filter form lists of a config, in any language: its
// members as options sorted by name (none selected; shared, never modified), their
// indexes by member ID, and the countries, regions and published languages of its
// members. They are made once per config: at 10,000 members, sorting the members by lower-cased name
// took a third of each river request.
type riverFilters struct {
	cfg                *config.Config
	members            []optionView
	index              map[string]int
	countries, regions []string
	languages          []string // cfg.PublishedLanguages()
	networkLanguage    string   // the base language of network.language
	byID               map[string]*config.Member
}

// listed reports whether the config lists member (news.Query.Listed): the items of a
// member removed from it stay stored, and are not shown. A member whose id changed is
// one removed and one added: the items stored under the old id are not shown. The
// items of a source removed from a member that stays are still shown: they are that
// member's news (a feed moved to a new URL, a page replaced by a feed), and an item
// the new source lists again keeps the one ID and the place it had.
func (f *riverFilters) listed(member string) bool {
	_, ok := f.byID[member]
	return ok
}

// withoutUnlisted drops from the items' AlsoBy the members the config no longer lists.
func (f *riverFilters) withoutUnlisted(items []news.Item) {
	for i := range items {
		it := &items[i]
		if slices.ContainsFunc(it.AlsoBy, func(id string) bool { return f.byID[id] == nil }) {
			it.AlsoBy = slices.DeleteFunc(slices.Clone(it.AlsoBy), func(id string) bool { return f.byID[id] == nil })
		}
	}
}

func (s *Server) riverFilters(cfg *config.Config) *riverFilters {
	if f := s.filters.Load(); f != nil && f.cfg == cfg {
		return f
	}
	f := &riverFilters{cfg: cfg, members: make([]optionView, 0, len(cfg.Members)), index: make(map[string]int, len(cfg.Members)),
		networkLanguage: config.BaseLanguage(cfg.Network.Language), byID: make(map[string]*config.Member, len(cfg.Members))}
	type keyed struct {
		key string
		opt optionView
	}
	byName := make([]keyed, 0, len(cfg.Members))
	countries, regions := map[string]bool{}, map[string]bool{}
	for i := range cfg.Members {
		m := &cfg.Members[i]
		f.byID[m.ID] = m
		byName = append(byName, keyed{strings.ToLower(m.Name), optionView{Value: m.ID, Label: m.Name}})
		if m.Country != "" {
			countries[m.Country] = true
		}
		if m.Region != "" {
			regions[m.Region] = true
		}
	}
	slices.SortStableFunc(byName, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	for i, k := range byName {
		f.members = append(f.members, k.opt)
		f.index[k.opt.Value] = i
	}
	f.countries, f.regions, f.languages = slices.Sorted(maps.Keys(countries)), slices.Sorted(maps.Keys(regions)), cfg.PublishedLanguages()
	s.filters.Store(f)
	return f
}

type memberPageView struct {
	Page
	Member   memberView
	List     itemsView
	FeedURLs []feedLink
	Sources  []sourceView
	Polls    int // news.MaxHistory
}

func (s *Server) memberPage(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	l := chooseLocale(r)
	id := r.PathValue("id")
	m, ok := cfg.Member(id)
	if !ok {
		s.failPage(w, r, l, fmt.Errorf("member %q: %w", id, errNotFound))
		return
	}
	keep, ok := s.storePage(w, r, cfg, l)
	if !ok {
		return
	}
	rows, byMember, err := s.sourceViews(r, cfg, l, []string{id})
	if err != nil {
		s.failPage(w, r, l, err)
		return
	}
	items := byMember[id]
	if len(items) > 20 {
		items = items[:20]
	}
	v := memberPageView{Page: s.pageIn(r, l, m.Name+" – "+cfg.Network.Title), List: itemsView{L: l, Items: s.localItemViews(cfg, l, items), Empty: l.T("No news from this member yet.")}, Sources: rows, Polls: news.MaxHistory}
	v.Member = memberView{ID: m.ID, Name: m.Name, Country: m.Country, Region: m.Region, Homepage: m.Homepage, Languages: m.Languages}
	if m.Country != "" {
		v.Member.CountryName = l.Country(m.Country)
	}
	v.FeedURLs = v.Page.withSelectionFeeds(m.Name+" – "+cfg.Network.Title, cfg.Network.URL+"members/"+url.PathEscape(id)+"/", "")
	htmlHeaders(w, l)
	s.render(w, r, "member.html", http.StatusOK, v, keep)
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
