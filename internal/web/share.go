package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// shareView is the /share page: feed addresses and embedding snippets for a selection.
type shareView struct {
	Page
	Members   []optionView
	Languages []optionView
	Limit     int
	Kept      []keptParam
	Feeds     []feedLink
	OPMLURL   string
	Snippets  embedSnippets
}

// share shows copy-paste snippets for the feeds, the iframe and the script tag.
func (s *Server) share(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	l := chooseLocale(r)
	v := r.URL.Query()
	q, err := s.embedQuery(v, cfg)
	if err != nil {
		s.failPage(w, r, l, err)
		return
	}
	title := cfg.Network.Title
	if len(q.Members) == 1 {
		m, _ := cfg.Member(q.Members[0])
		title = m.Name + " – " + cfg.Network.Title
	}
	view := shareView{
		Page:     s.pageIn(r, l, l.T("Share and embed")+" – "+cfg.Network.Title),
		Limit:    q.Limit,
		OPMLURL:  cfg.Network.URL + "opml",
		Snippets: snippets(cfg, l.keep(shareEmbedQuery(v, q.Limit)), title),
	}
	rf := s.riverFilters(cfg)
	view.Members = rf.memberOptions(strings.Join(q.Members, ","))
	// The selection's filters the form has no field for, kept as hidden fields so that
	// changing the language or the number of items does not drop them.
	for _, name := range []string{"country", "region", "category", "q"} {
		if val := v.Get(name); val != "" {
			view.Kept = append(view.Kept, keptParam{name, val})
		}
	}
	for _, lg := range rf.languages {
		view.Languages = append(view.Languages, optionView{Value: lg, Label: l.Language(lg), Selected: lg == q.Language})
	}
	slices.SortFunc(view.Languages, func(a, b optionView) int { return cmp.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	fq := feedQuery(v)
	for _, f := range networkFeedKinds {
		view.Feeds = append(view.Feeds, feedLink{f.label, withQuery(cfg.Network.URL+"feed."+f.ext, fq)})
	}
	htmlHeaders(w, l)
	s.render(w, r, "share.html", http.StatusOK, view, nil)
}

// shareEmbedQuery is the selection for the embed snippets: the filters, and the limit
// when it is not the default. The page adds hl= when its language was chosen with it
// (the language switcher): the list then speaks that language on the member's site.
func shareEmbedQuery(v url.Values, limit int) url.Values {
	out := url.Values{}
	for _, k := range []string{"member", "country", "region", "lang", "category", "q"} {
		if s := param(v, k); s != "" {
			out.Set(k, s)
		}
	}
	if limit != EmbedDefaultLimit {
		out.Set("limit", strconv.Itoa(limit))
	}
	return out
}
