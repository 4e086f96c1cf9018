package web

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/publish"
)

// opmlOutlines lists the network's sources grouped by region (regions sorted, members
// by name within a region, "Other" last for members without a region). A member's own
// feeds come first; a homepage whose feed was discovered counts as a feed. A member with
// no feed of its own (only news pages, or nothing discovered yet) gets networkfeed's
// Atom feed of that member instead. Disabled members and sources are left out.
func opmlOutlines(cfg *config.Config, states []news.SourceState) []publish.OPMLOutline {
	discovered := map[string]string{}
	for _, st := range states {
		if st.FeedURL != "" {
			discovered[st.URL] = st.FeedURL
		}
	}
	const other = "Other"
	byRegion := map[string][]publish.OPMLOutline{}
	members := slices.Clone(cfg.Members)
	slices.SortStableFunc(members, func(a, b config.Member) int { return cmp.Compare(a.Name, b.Name) })
	for _, m := range members {
		if m.Disabled {
			continue
		}
		region := cmp.Or(m.Region, other)
		home := cmp.Or(m.Homepage, cfg.Network.URL+"members/"+url.PathEscape(m.ID))
		var feeds []string
		for _, src := range m.AllSources() {
			if src.Disabled {
				continue
			}
			switch src.Kind() {
			case "feed":
				feeds = append(feeds, src.Feed)
			case "homepage":
				if f := discovered[src.URL()]; f != "" {
					feeds = append(feeds, f)
				}
			}
		}
		category := "/" + region
		if m.Country != "" {
			category += "/" + m.Country
		}
		if len(feeds) == 0 {
			byRegion[region] = append(byRegion[region], publish.OPMLOutline{
				Text: m.Name, Title: m.Name + " (via " + cfg.Network.Title + ")", Type: "rss",
				XMLURL: cfg.Network.URL + "members/" + url.PathEscape(m.ID) + "/feed.atom", HTMLURL: home, Category: category,
			})
			continue
		}
		for i, f := range slices.Compact(feeds) {
			text := m.Name
			if i > 0 {
				text = fmt.Sprintf("%s (%d)", m.Name, i+1)
			}
			byRegion[region] = append(byRegion[region], publish.OPMLOutline{Text: text, Title: text, Type: "rss", XMLURL: f, HTMLURL: home, Category: category})
		}
	}
	regions := make([]string, 0, len(byRegion))
	for r := range byRegion {
		if r != other {
			regions = append(regions, r)
		}
	}
	slices.Sort(regions)
	if _, ok := byRegion[other]; ok {
		regions = append(regions, other)
	}
	out := make([]publish.OPMLOutline, 0, len(regions))
	for _, r := range regions {
		out = append(out, publish.OPMLOutline{Text: r, Title: r, Children: byRegion[r]})
	}
	return out
}

// opml serves the network's sources as OPML 2.0.
func (s *Server) opml(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		s.fail(w, r, bad("/opml takes no parameters"))
		return
	}
	cfg := s.config()
	states, err := s.store.SourceStates(r.Context())
	if err != nil {
		s.fail(w, r, fmt.Errorf("read sources: %w", err))
		return
	}
	var buf bytes.Buffer
	if err := publish.OPML(&buf, cfg.Network.Title+" – sources", opmlOutlines(cfg, states)); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", publish.ContentType(publish.FormatOPML))
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Length", itoa(buf.Len()))
	w.Write(buf.Bytes())
}
