package web

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
	mux.HandleFunc("GET /sources.json", s.sourcesJSON)
	mux.HandleFunc("GET /sources.csv", s.sourcesCSV)
}

// Typed views: templates never see maps of anything.

type memberView struct {
	ID, Name, Country, Region, Homepage string
	Selected                            bool
}

type itemView struct {
	news.Item
	MemberName string
	Date       string // as shown: "5 March 2026", "May 2017", "first seen 3 March 2026"
	DateISO    string
	AlsoNames  []string
}

type riverView struct {
	Page
	Items      []itemView
	Members    []memberView
	Countries  []string
	Regions    []string
	Languages  []string
	Filter     filterView
	NextURL    string
	FeedURLs   []feedLink
	Total      int
	MemberInfo *memberView
	Sources    []sourceView
}

type filterView struct {
	Member, Country, Region, Lang, Q string
}

type feedLink struct{ Label, URL string }

// Page holds what every page's layout needs.
type Page struct {
	Title      string
	Network    string
	Lang       string
	StyleURL   string
	Path       string
	Canonical  string
	NetworkURL string
}

func (s *Server) page(r *http.Request, title string) Page {
	cfg := s.config()
	return Page{Title: title, Network: cfg.Network.Title, Lang: "en", StyleURL: s.static.URL("style.css"), Path: r.URL.Path, NetworkURL: cfg.Network.URL}
}

func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"ago": func(t time.Time) string { return ago(s.now(), t) },
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"iso": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"join": strings.Join,
	}
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// dateText shows an item's date as precisely as the source gave it.
func dateText(it *news.Item) string {
	t := it.Published.UTC()
	switch it.Precision {
	case news.PrecisionMonth:
		return t.Format("January 2006")
	case news.PrecisionNone:
		return "first seen " + it.FirstSeen.UTC().Format("2 January 2006")
	case news.PrecisionDay:
		return t.Format("2 January 2006")
	}
	return t.Format("2 January 2006")
}

func (s *Server) itemViews(cfg *config.Config, items []news.Item) []itemView {
	out := make([]itemView, len(items))
	for i, it := range items {
		v := itemView{Item: it, Date: dateText(&it), DateISO: it.Published.UTC().Format(time.RFC3339)}
		if m, ok := cfg.Member(it.Member); ok {
			v.MemberName = m.Name
		} else {
			v.MemberName = it.Member
		}
		for _, id := range it.AlsoBy {
			if m, ok := cfg.Member(id); ok {
				v.AlsoNames = append(v.AlsoNames, m.Name)
			} else {
				v.AlsoNames = append(v.AlsoNames, id)
			}
		}
		out[i] = v
	}
	return out
}

func (s *Server) river(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	q, err := parseQuery(r.URL.Query(), cfg, 30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q.Clustered = true
	items, err := s.store.Items(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := riverView{Page: s.page(r, cfg.Network.Title), Items: s.itemViews(cfg, items)}
	v.Filter = filterView{Member: r.URL.Query().Get("member"), Country: q.Country, Region: q.Region, Lang: q.Language, Q: q.Text}
	s.fillFilters(cfg, &v)
	if len(items) == q.Limit {
		last := items[len(items)-1]
		nv := r.URL.Query()
		nv.Set("before", formatCursor(news.Cursor{Time: last.SortTime(), ID: last.ID}))
		v.NextURL = "/?" + canonicalQuery(nv)
	}
	fq := feedQuery(r.URL.Query())
	for _, f := range []struct{ label, ext string }{{"RSS", "rss"}, {"Atom", "atom"}, {"JSON Feed", "json"}} {
		v.FeedURLs = append(v.FeedURLs, feedLink{f.label, withQuery(cfg.Network.URL+"feed."+f.ext, fq)})
	}
	s.render(w, r, "river.html", http.StatusOK, v)
}

// feedQuery keeps the filters of a page for its feed links (not its paging).
func feedQuery(v url.Values) string {
	c := url.Values{}
	for _, k := range []string{"member", "country", "region", "lang", "category", "q"} {
		if s := v.Get(k); s != "" {
			c.Set(k, s)
		}
	}
	return c.Encode()
}

func (s *Server) fillFilters(cfg *config.Config, v *riverView) {
	selected := strings.Split(v.Filter.Member, ",")
	countries, regions, langs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, m := range cfg.Members {
		v.Members = append(v.Members, memberView{ID: m.ID, Name: m.Name, Country: m.Country, Region: m.Region, Homepage: m.Homepage, Selected: slices.Contains(selected, m.ID)})
		if m.Country != "" {
			countries[m.Country] = true
		}
		if m.Region != "" {
			regions[m.Region] = true
		}
		for _, l := range m.Languages {
			langs[l] = true
		}
	}
	slices.SortFunc(v.Members, func(a, b memberView) int { return cmp.Compare(a.Name, b.Name) })
	v.Countries, v.Regions, v.Languages = sortedKeys(countries), sortedKeys(regions), sortedKeys(langs)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *Server) memberPage(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	id := r.PathValue("id")
	m, ok := cfg.Member(id)
	if !ok {
		s.fail(w, r, fmt.Errorf("member %q: %w", id, errNotFound))
		return
	}
	items, err := s.store.Items(r.Context(), news.Query{Members: []string{id}, Limit: 20})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := riverView{Page: s.page(r, m.Name+" – "+cfg.Network.Title), Items: s.itemViews(cfg, items)}
	v.MemberInfo = &memberView{ID: m.ID, Name: m.Name, Country: m.Country, Region: m.Region, Homepage: m.Homepage}
	for _, f := range []struct{ label, ext string }{{"RSS", "rss"}, {"Atom", "atom"}, {"JSON Feed", "json"}} {
		v.FeedURLs = append(v.FeedURLs, feedLink{f.label, cfg.Network.URL + "members/" + id + "/feed." + f.ext})
	}
	all, err := s.sourceViews(r, cfg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, sv := range all {
		if sv.MemberID == id {
			v.Sources = append(v.Sources, sv)
		}
	}
	s.render(w, r, "member.html", http.StatusOK, v)
}

// sourceView is one row of the dashboard.
type sourceView struct {
	MemberID    string            `json:"member"`
	MemberName  string            `json:"member_name"`
	URL         string            `json:"url"`
	Kind        string            `json:"kind"`
	Health      news.Health       `json:"health"`
	LastPoll    time.Time         `json:"last_poll"`
	LastSuccess time.Time         `json:"last_success"`
	LastNewItem time.Time         `json:"last_new_item"`
	NextPoll    time.Time         `json:"next_poll"`
	HTTPCode    int               `json:"http_code"`
	Error       string            `json:"error"`
	ErrorKind   string            `json:"error_kind"`
	Items       int               `json:"items"`
	FeedURL     string            `json:"feed_url,omitempty"`
	Redirect    string            `json:"redirect,omitempty"`
	History     []news.PollRecord `json:"history,omitempty"`
}

// sourceViews joins the configured sources with their stored state, in config order.
func (s *Server) sourceViews(r *http.Request, cfg *config.Config) ([]sourceView, error) {
	states, err := s.store.Sources(r.Context())
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	byURL := make(map[string]news.SourceState, len(states))
	for _, st := range states {
		byURL[st.URL] = st
	}
	var out []sourceView
	for _, m := range cfg.Members {
		for _, src := range m.AllSources() {
			st, ok := byURL[src.URL()]
			v := sourceView{MemberID: m.ID, MemberName: m.Name, URL: src.URL(), Kind: src.Kind(), Health: news.HealthUnknown}
			if ok {
				v.Health, v.LastPoll, v.LastSuccess, v.LastNewItem, v.NextPoll = st.Health, st.LastPoll, st.LastSuccess, st.LastNewItem, st.NextPoll
				v.HTTPCode, v.Error, v.ErrorKind, v.Items, v.FeedURL, v.Redirect, v.History = st.HTTPCode, st.Error, st.ErrorKind, st.Items, st.FeedURL, st.Redirect, st.History
			}
			if m.Disabled || src.Disabled {
				v.Health = news.HealthDisabled
			}
			out = append(out, v)
		}
	}
	return out, nil
}

type sourcesView struct {
	Page
	Sources []sourceView
	Counts  map[news.Health]int
}

func (s *Server) sources(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	rows, err := s.sourceViews(r, cfg)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := sourcesView{Page: s.page(r, "Sources – "+cfg.Network.Title), Counts: map[news.Health]int{}}
	for _, row := range rows {
		v.Counts[row.Health]++
	}
	if r.URL.Query().Get("problems") != "" {
		rows = slices.DeleteFunc(rows, func(sv sourceView) bool { return sv.Health == news.HealthOK })
	}
	v.Sources = rows
	s.render(w, r, "sources.html", http.StatusOK, v)
}

func (s *Server) sourcesJSON(w http.ResponseWriter, r *http.Request) {
	rows, err := s.sourceViews(r, s.config())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(struct {
		Sources []sourceView `json:"sources"`
	}{rows})
}

func (s *Server) sourcesCSV(w http.ResponseWriter, r *http.Request) {
	rows, err := s.sourceViews(r, s.config())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sources.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"member", "url", "kind", "health", "last_poll", "last_success", "last_new_item", "http_code", "items", "error"})
	for _, v := range rows {
		cw.Write([]string{v.MemberID, v.URL, v.Kind, string(v.Health), rfc(v.LastPoll), rfc(v.LastSuccess), rfc(v.LastNewItem), strconv.Itoa(v.HTTPCode), strconv.Itoa(v.Items), v.Error})
	}
	cw.Flush()
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
