package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iss-network/networkfeed/internal/alerts"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/publish"
	"github.com/iss-network/networkfeed/internal/store"
)

// sourceView is one row of the dashboard, and one record of sources.json.
//
// Health is assessed, not just stored: an ok source is "stale" when its newest item is
// older than it usually goes without one (see alerts.Assess). The weekly counts come
// from the source's stored items (by their dates), not from poll history: fifty polls
// cover about a day, not 26 weeks, and items show what the member actually published.
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
	Warning     string            `json:"warning"` // a selector matching no item, its health ok; "" when none
	Items       int               `json:"items"`
	FeedURL     string            `json:"feed_url,omitempty"`
	Redirect    string            `json:"redirect,omitempty"`
	History     []news.PollRecord `json:"history,omitempty"`
	// Added with the assessed health:
	LastItem      time.Time `json:"last_item,omitzero"`
	TypicalGapSec int64     `json:"typical_gap_seconds,omitempty"`
	Weekly        []int     `json:"items_per_week"` // 26 weeks, oldest first

	// Display text in the reader's language (not in JSON).
	D sourceText `json:"-"`
}

// sourceText is a row's text as shown.
type sourceText struct {
	Health, LastPoll, LastSuccess, LastNewItem, NextPoll, ErrorKind, Typical string
	Warning                                                                  string // its label ("Warning:"), before the warning in the poller's words
	Redirect                                                                 string // "Moved permanently to …: update feeds.yaml"
	FeedFound                                                                string // "feed found: …", for a homepage or page source
	Sparkline                                                                template.HTML
	MemberURL                                                                string
	History                                                                  []pollText
}

type pollText struct {
	At, ISO, Duration string
	HTTPCode, New     int
	Error             string
}

// sourceViews joins the configured sources (of the given members, or all) with their
// stored state and their members' stored items, in config order. It also returns the
// items read per member, newest first.
func (s *Server) sourceViews(r *http.Request, cfg *config.Config, l *locale, only []string) ([]sourceView, map[string][]news.Item, error) {
	ctx := r.Context()
	byURL, err := s.sourceStates(ctx, cfg, only)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	items := map[string][]news.Item{}
	var out []sourceView
	fresh := map[string]memberDates{}
	for _, m := range cfg.Members {
		if only != nil && !slices.Contains(only, m.ID) {
			continue
		}
		md, ok := s.cachedDates(m, byURL, now)
		if !ok || only != nil {
			its, err := s.store.Items(ctx, alerts.ItemsQuery(m.ID, now))
			if err != nil {
				return nil, nil, fmt.Errorf("read items of %s: %w", m.ID, err)
			}
			if only != nil { // a member's page shows them; the dashboard keeps only their dates
				items[m.ID] = its
			}
			md = newMemberDates(m, byURL, its, now)
		}
		fresh[m.ID] = md
		for _, src := range m.AllSources() {
			st, ok := byURL[src.URL()]
			if ok && st.LeftBy(m.ID) {
				// A state another member left (this member's id changed, or the source
				// moved): none of this member's, whose first poll starts afresh (poll.Refresh)
				// and comes soon (the scheduler spreads it as an added source's).
				ok = false
			}
			if !ok {
				st = news.SourceState{URL: src.URL(), Health: news.HealthUnknown}
			}
			if m.Disabled || src.Disabled {
				st.Health, st.NextPoll = news.HealthDisabled, time.Time{} // not polled at all
			} else {
				// When the poller will poll it: a next poll recorded under an earlier config
				// (a longer interval or max_interval) waits no longer than this one allows.
				st.NextPoll = poll.NextPoll(cfg, src, st)
			}
			a := alerts.Assess(st, md.bySource[src.URL()], now)
			v := sourceView{MemberID: m.ID, MemberName: m.Name, URL: src.URL(), Kind: src.Kind(), Health: a.Health,
				LastPoll: st.LastPoll, LastSuccess: st.LastSuccess, LastNewItem: st.LastNewItem, NextPoll: st.NextPoll,
				HTTPCode: st.HTTPCode, Error: st.Error, ErrorKind: st.ErrorKind, Warning: st.Warning, Items: st.Items, FeedURL: st.FeedURL,
				Redirect: st.Redirect, History: st.History, LastItem: a.LastItem, TypicalGapSec: int64(a.TypicalGap / time.Second),
				Weekly: a.Weekly[:]}
			if l != nil {
				v.D = rowText(l, now, &v, a, s.absTimes)
			}
			out = append(out, v)
		}
	}
	s.datesMu.Lock()
	if only == nil || s.dates == nil {
		s.dates = fresh // the members of the config: those gone are dropped
	} else {
		maps.Copy(s.dates, fresh)
	}
	s.datesMu.Unlock()
	return out, items, nil
}

// sourceStates reads the stored states, with their poll histories, of the sources of
// the given members one by one, or (only nil) of every source at once: a member's page
// reads its own few sources, not the whole network's (at 10,000 sources reading them all
// made each member page take about 100 ms).
func (s *Server) sourceStates(ctx context.Context, cfg *config.Config, only []string) (map[string]news.SourceState, error) {
	if only == nil {
		states, err := s.store.Sources(ctx)
		if err != nil {
			return nil, fmt.Errorf("read sources: %w", err)
		}
		byURL := make(map[string]news.SourceState, len(states))
		for _, st := range states {
			byURL[st.URL] = st
		}
		return byURL, nil
	}
	byURL := map[string]news.SourceState{}
	for _, id := range only {
		m, ok := cfg.Member(id)
		if !ok {
			continue
		}
		for _, src := range m.AllSources() {
			st, err := s.store.Source(ctx, src.URL())
			if errors.Is(err, store.ErrNotFound) {
				continue // never polled
			}
			if err != nil {
				return nil, fmt.Errorf("read source %s: %w", src.URL(), err)
			}
			byURL[src.URL()] = st
		}
	}
	return byURL, nil
}

// memberDates are the dates of a member's items by source, read when its sources' last
// polls were polls: a member's items change only when one of its sources is polled (new
// items, edits, retention), which changes that source's LastPoll, so the dashboard reads
// a member's items again only then, or once datesTTL has passed (the year of items it
// reads moves on). At 10,000 sources, reading every member's items made each /sources
// request take 3–4 s.
type memberDates struct {
	polls    string
	at       time.Time
	bySource map[string][]alerts.ItemDate
}

// datesTTL bounds how long a member's item dates are used without reading them again.
const datesTTL = time.Hour

// lastPolls is the LastPoll of each of m's sources, as one string.
func lastPolls(m *config.Member, byURL map[string]news.SourceState) string {
	var b strings.Builder
	for _, src := range m.AllSources() {
		b.WriteString(strconv.FormatInt(byURL[src.URL()].LastPoll.UnixNano(), 36))
		b.WriteByte(' ')
	}
	return b.String()
}

func newMemberDates(m config.Member, byURL map[string]news.SourceState, its []news.Item, now time.Time) memberDates {
	md := memberDates{polls: lastPolls(&m, byURL), at: now, bySource: map[string][]alerts.ItemDate{}}
	for _, src := range m.AllSources() {
		md.bySource[src.URL()] = alerts.DatesOf(its, src.URL())
	}
	return md
}

// cachedDates returns m's item dates as last read, when no source of m has been polled
// since and they are not older than datesTTL.
func (s *Server) cachedDates(m config.Member, byURL map[string]news.SourceState, now time.Time) (memberDates, bool) {
	s.datesMu.Lock()
	md, ok := s.dates[m.ID]
	s.datesMu.Unlock()
	if !ok || now.Sub(md.at) > datesTTL || now.Before(md.at) || md.polls != lastPolls(&m, byURL) {
		return memberDates{}, false
	}
	return md, true
}

// rowText is a row's text; absolute shows times as dates and times (see Options.Static)
// rather than relative to now.
func rowText(l *locale, now time.Time, v *sourceView, a alerts.Assessment, absolute bool) sourceText {
	when := func(t time.Time) string { return l.Ago(now, t) }
	if absolute {
		when = func(t time.Time) string {
			if t.IsZero() {
				return l.T("never")
			}
			return l.DateTime(t)
		}
	}
	d := sourceText{Health: l.T(string(v.Health)), LastPoll: when(v.LastPoll), LastSuccess: when(v.LastSuccess),
		LastNewItem: when(a.LastItem), NextPoll: when(v.NextPoll), MemberURL: l.URL("/members/" + url.PathEscape(v.MemberID))}
	if v.Health == news.HealthDisabled && v.NextPoll.IsZero() {
		d.NextPoll = "—" // disabled in feeds.yaml; one the poller disabled is checked again daily (or at its interval when longer)
	}
	if v.ErrorKind != "" {
		d.ErrorKind = l.T("kind:" + v.ErrorKind)
	}
	if v.FeedURL != "" {
		// Labelled: a bare second URL under the source's reads as another source.
		d.FeedFound = l.T("feed found: %s", v.FeedURL)
	}
	if v.Redirect != "" {
		d.Redirect = l.T("Moved permanently to %s: update feeds.yaml", v.Redirect)
	}
	if v.Warning != "" {
		d.Warning = l.T("Warning:") // the warning itself stays in the poller's words
	}
	switch hours := int((a.TypicalGap + 30*time.Minute) / time.Hour); {
	case a.TypicalGap <= 0:
	case hours < 24:
		// An hourly source was "usually a new item every 1 day".
		d.Typical = l.T("usually a new item every %d hours", max(1, hours))
	default:
		d.Typical = l.T("usually a new item every %s", l.T("%d days", int((a.TypicalGap+12*time.Hour)/(24*time.Hour))))
	}
	total := 0
	for _, n := range a.Weekly {
		total += n
	}
	d.Sparkline = sparkline(a.Weekly[:], l.T("%d items in the last 26 weeks", total))
	for _, p := range v.History {
		d.History = append(d.History, pollText{At: l.DateTime(p.At), ISO: rfc(p.At), Duration: p.Duration.Round(time.Millisecond).String(), HTTPCode: p.HTTPCode, New: p.New, Error: p.Error})
	}
	return d
}

// sparkline draws counts as an inline SVG bar chart, 4 px per week; label is its text
// alternative. Only numbers and the escaped label go into the markup.
func sparkline(counts []int, label string) template.HTML {
	const w, h = 4, 20
	peak := slices.Max(append([]int{1}, counts...))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		len(counts)*w, h, len(counts)*w, h, template.HTMLEscapeString(label), template.HTMLEscapeString(label))
	fmt.Fprintf(&b, `<rect class="z" x="0" y="%d" width="%d" height="1"/>`, h-1, len(counts)*w)
	var d strings.Builder
	for i, n := range counts {
		if n > 0 {
			bh := max(2, n*h/peak)
			fmt.Fprintf(&d, "M%d %dh%dv%dh-%dz", i*w, h-bh, w-1, bh, w-1)
		}
	}
	if d.Len() > 0 {
		fmt.Fprintf(&b, `<path class="n" d="%s"/>`, d.String())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: numbers and escaped text only
}

// healthOrder ranks health for sorting: problems first.
var healthOrder = map[news.Health]int{news.HealthFailing: 0, news.HealthStale: 1, news.HealthUnknown: 2, news.HealthDisabled: 3, news.HealthOK: 4}

// sortColumns are the dashboard's sortable columns and how they compare.
type sortColumn struct {
	Key, Label string
	cmp        func(a, b *sourceView) int
}

var sortColumns = []sortColumn{
	{"member", "Member", func(a, b *sourceView) int {
		return cmp.Compare(strings.ToLower(a.MemberName), strings.ToLower(b.MemberName))
	}},
	{"source", "Source", func(a, b *sourceView) int { return cmp.Compare(a.URL, b.URL) }},
	{"health", "Health", func(a, b *sourceView) int { return cmp.Compare(healthOrder[a.Health], healthOrder[b.Health]) }},
	{"last_poll", "Last poll", func(a, b *sourceView) int { return a.LastPoll.Compare(b.LastPoll) }},
	{"last_success", "Last success", func(a, b *sourceView) int { return a.LastSuccess.Compare(b.LastSuccess) }},
	{"http", "HTTP", func(a, b *sourceView) int { return cmp.Compare(a.HTTPCode, b.HTTPCode) }},
	{"items", "Items", func(a, b *sourceView) int { return cmp.Compare(a.Items, b.Items) }},
	{"last_new", "Last new item", func(a, b *sourceView) int { return a.LastItem.Compare(b.LastItem) }},
	{"next_poll", "Next poll", func(a, b *sourceView) int { return a.NextPoll.Compare(b.NextPoll) }},
	{"error", "Last error", func(a, b *sourceView) int { return cmp.Compare(a.Error, b.Error) }},
}

type columnView struct {
	Label, URL, Sort string // Sort: "ascending", "descending" or "" for aria-sort
	Arrow            string
}

type countView struct {
	Health news.Health
	Text   string // "failing: 2"
	URL    string
}

type sourcesView struct {
	Page
	Sources   []sourceView
	Total     string
	Counts    []countView
	Columns   []columnView
	Problems  bool
	AllURL    string
	ProbURL   string
	AlertsURL string
}

func (s *Server) sources(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	l := chooseLocale(r)
	keep, ok := s.storePage(w, r, cfg, l)
	if !ok {
		return
	}
	rows, _, err := s.sourceViews(r, cfg, l, nil)
	if err != nil {
		s.failPage(w, r, l, err)
		return
	}
	qv := r.URL.Query()
	v := sourcesView{Page: s.pageIn(r, l, l.T("Source health")+" – "+cfg.Network.Title), Total: l.T("%d sources", len(rows)),
		AlertsURL: "/sources/alerts.atom"}
	counts := map[news.Health]int{}
	for _, row := range rows {
		counts[row.Health]++
	}
	link := func(set map[string]string) string {
		nv := url.Values{}
		for _, k := range []string{"sort", "problems", "health"} {
			if x := qv.Get(k); x != "" {
				nv.Set(k, x)
			}
		}
		for k, x := range set {
			if x == "" {
				nv.Del(k)
			} else {
				nv.Set(k, x)
			}
		}
		return withQuery("/sources", l.keep(nv).Encode())
	}
	for _, h := range []news.Health{news.HealthFailing, news.HealthStale, news.HealthUnknown, news.HealthDisabled, news.HealthOK} {
		v.Counts = append(v.Counts, countView{Health: h, Text: l.T("%[1]s: %[2]d", l.T(string(h)), counts[h]), URL: link(map[string]string{"health": string(h), "problems": ""})})
	}
	v.AllURL = link(map[string]string{"problems": "", "health": ""})
	v.ProbURL = link(map[string]string{"problems": "1", "health": ""})
	if qv.Get("problems") != "" {
		v.Problems = true
		rows = slices.DeleteFunc(rows, func(sv sourceView) bool {
			// An ok source with a warning (a selector that matches none of its items) is one.
			return sv.Health == news.HealthOK && sv.Warning == "" || sv.Health == news.HealthDisabled
		})
	}
	if h := qv.Get("health"); h != "" {
		rows = slices.DeleteFunc(rows, func(sv sourceView) bool { return string(sv.Health) != h })
	}
	key := qv.Get("sort")
	desc := strings.HasPrefix(key, "-")
	key = strings.TrimPrefix(key, "-")
	sortRows(rows, key, desc)
	for _, c := range sortColumns {
		cv := columnView{Label: l.T(c.Label), URL: link(map[string]string{"sort": c.Key})}
		if c.Key == key || (key == "" && c.Key == "health") {
			cv.Sort, cv.Arrow = "ascending", "▲"
			if desc {
				cv.Sort, cv.Arrow = "descending", "▼"
			} else {
				cv.URL = link(map[string]string{"sort": "-" + c.Key})
			}
		}
		v.Columns = append(v.Columns, cv)
	}
	v.Sources = rows
	htmlHeaders(w, l)
	s.render(w, r, "sources.html", http.StatusOK, v, keep)
}

// sortRows orders rows by the named column (default: health, problems first), then by
// member and URL so that the order is stable.
func sortRows(rows []sourceView, key string, desc bool) {
	i := slices.IndexFunc(sortColumns, func(c sortColumn) bool { return c.Key == key })
	if i < 0 {
		i = slices.IndexFunc(sortColumns, func(c sortColumn) bool { return c.Key == "health" })
	}
	by := sortColumns[i].cmp
	slices.SortStableFunc(rows, func(a, b sourceView) int {
		c := by(&a, &b)
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(strings.ToLower(a.MemberName), strings.ToLower(b.MemberName)), cmp.Compare(a.URL, b.URL))
	})
}

func (s *Server) sourcesJSON(w http.ResponseWriter, r *http.Request) {
	rows, _, err := s.sourceViews(r, s.config(), nil, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Sources []sourceView `json:"sources"`
	}{rows}); err != nil {
		s.fail(w, r, fmt.Errorf("encode sources: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(buf.Bytes())
}

func (s *Server) sourcesCSV(w http.ResponseWriter, r *http.Request) {
	rows, _, err := s.sourceViews(r, s.config(), nil, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"member", "url", "kind", "health", "last_poll", "last_success", "last_new_item", "http_code", "items", "error", "error_kind", "last_item", "typical_gap_days", "items_26_weeks", "warning"})
	for _, v := range rows {
		total := 0
		for _, n := range v.Weekly {
			total += n
		}
		gap := ""
		if v.TypicalGapSec > 0 {
			gap = gapDays(v.TypicalGapSec)
		}
		cw.Write([]string{v.MemberID, v.URL, v.Kind, string(v.Health), rfc(v.LastPoll), rfc(v.LastSuccess), rfc(v.LastNewItem), strconv.Itoa(v.HTTPCode), strconv.Itoa(v.Items), v.Error,
			v.ErrorKind, rfc(v.LastItem), gap, strconv.Itoa(total), v.Warning})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sources.csv"`)
	w.Write(buf.Bytes())
}

// gapDays is a typical gap of sec seconds in days, for the CSV: one decimal from a day
// up, two significant digits below (an hourly source's 0.042, which one decimal made
// 0.0, as if it published continuously).
func gapDays(sec int64) string {
	d := float64(sec) / 86400
	decimals := 1
	if d < 1 {
		decimals = max(1, 1-int(math.Floor(math.Log10(d))))
	}
	return strconv.FormatFloat(d, 'f', decimals, 64)
}

// alertsFeed serves /sources/alerts.atom: one entry per health change, read from where
// alerts.Observer persists them, so it works in a web front that does not poll.
func (s *Server) alertsFeed(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	list, err := alerts.Load(r.Context(), s.store)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := publish.Feed{
		Title:       "Source health alerts – " + cfg.Network.Title,
		Description: "Member sources that start failing, go stale, recover, stop matching their selectors (or some of them) or are disabled",
		HTMLURL:     cfg.Network.URL + "sources",
		SelfURL:     cfg.Network.URL + "sources/alerts.atom",
		Language:    "en",
		Members:     publishMembers(cfg),
		Updated:     time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	listed := s.riverFilters(cfg).listed
	for _, a := range list {
		if !listed(a.Member) {
			continue // a member removed from the config, as in every feed (prune drops them)
		}
		body := fmt.Sprintf("Health went from %s to %s.", a.From, a.To)
		if a.From == a.To {
			body = fmt.Sprintf("Health stays %s.", a.To) // a warning, or its end
		}
		if a.HTTPCode != 0 {
			body += fmt.Sprintf(" HTTP %d.", a.HTTPCode)
		}
		if a.Error != "" {
			body += " Last error: " + a.Error
		}
		if a.Warning != "" {
			body += " Warning: " + a.Warning
		}
		f.Items = append(f.Items, news.Item{ID: a.ID, Title: a.Text(), Summary: body, Member: a.Member, Source: a.Source,
			Link: cfg.Network.URL + "members/" + url.PathEscape(a.Member), Published: a.At, Updated: a.At, Categories: []string{a.Kind}})
		if a.At.After(f.Updated) {
			f.Updated = a.At
		}
	}
	var buf bytes.Buffer
	if err := publish.Atom(&buf, f); err != nil {
		s.fail(w, r, fmt.Errorf("write alerts feed: %w", err))
		return
	}
	w.Header().Set("Content-Type", publish.ContentType("atom"))
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(buf.Bytes())
}
