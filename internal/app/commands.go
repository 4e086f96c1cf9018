package app

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/iss-network/networkfeed/internal/alerts"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/demo"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/web"
)

func runPoll(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs, c := newFlags("poll", env)
	workers := fs.Int("workers", 16, "concurrent refreshes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	log := newLogger(stderr, env)
	cfg, st, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	cfgFn := func() *config.Config { return cfg }
	ref := newRefresher(cfgFn, newFetcher(cfg), st, log)
	// The feeds advertise network.websub_hub whoever polls: a run from cron, beside a
	// `serve -poll=false` web front, must ping the hub as serve does, or subscribers that
	// rely on it never hear of the items it stored.
	var (
		mu      sync.Mutex
		changed []string
	)
	// Health changes are recorded (the alerts feed, the dashboard) and posted to
	// alerts.webhook_url as serve does: a run from cron may be the only poller.
	al := alerts.New(alerts.Options{Store: st, Config: cfgFn, Log: log})
	ref.Observe = func(before, after news.SourceState, r poll.Result) {
		al.Observe(before, after, r)
		if changedItems(r) {
			mu.Lock()
			changed = append(changed, r.Member)
			mu.Unlock()
		}
	}
	err = pollOnce(ctx, ref, poll.Jobs(cfg), *workers, stdout)
	mu.Lock()
	defer mu.Unlock()
	newHubNotifier(cfgFn, log).notify(changed)
	// Webhook deliveries in flight get the time their retries take (10 s, after an
	// interruption), then are abandoned with a warning.
	wait := alertsDrain
	if ctx.Err() != nil {
		wait = 10 * time.Second
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	if cerr := al.Close(actx); cerr != nil {
		log.Warn("alerts: webhook deliveries abandoned", "err", cerr)
	}
	return err
}

// alertsDrain is how long `poll` waits at its end for alert webhook deliveries: the
// retries of one that keeps failing (5 attempts, 2+4+8+16 s apart) fit in it.
var alertsDrain = 40 * time.Second

// pollOnce refreshes every job, shows progress on a terminal and prints a summary; a
// failing source is reported, never fatal, but a source the store could not record (it
// stopped answering), whose items it could not save (a full disk) or whose state it could
// not write after the refresh makes it return an error after the summary: the run did
// not store what it fetched. Only what it prints
// of each result is kept.
// When ctx ends first (SIGINT, SIGTERM), the refreshes it cut short are not listed as
// failing: the summary says the poll was interrupted and how many sources it polled,
// and the error it returns gives the command a non-zero exit.
func pollOnce(ctx context.Context, ref *poll.Refresher, jobs []poll.Job, workers int, out io.Writer) error {
	tty := isTerminal(out)
	start := time.Now()
	type line struct {
		job  int
		text string
	}
	var lines []line // FAIL, BUSY, MOVED and WARN lines, printed in the order of jobs
	newItems, failed, polled, busy, unrecorded, unsaved, unstated := 0, 0, 0, 0, 0, 0, 0
	poll.PollEach(ctx, ref, jobs, workers, func(i, done, _ int, r poll.Result) {
		newItems += r.New
		if r.Err != nil && ctx.Err() != nil {
			return // cut short by the interruption
		}
		polled++
		// The source's state not written after a refresh that did its work, or failed
		// for the source's reasons (a disk that filled after the items' write): the run
		// did not record what it found either.
		stateLost := r.StateErr != nil && !errors.Is(r.Err, store.ErrUnavailable) && !errors.Is(r.Err, store.ErrWrite)
		switch {
		case errors.Is(r.Err, store.ErrUnavailable), stateLost && errors.Is(r.StateErr, store.ErrUnavailable):
			unrecorded++ // listed as failing too, with the store as the reason
		case errors.Is(r.Err, store.ErrWrite):
			unsaved++ // likewise
		case stateLost:
			unstated++ // likewise
		}
		switch {
		case errors.Is(r.Err, poll.ErrBusy):
			busy++
			lines = append(lines, line{i, fmt.Sprintf("BUSY\t%s\t%s\t%s: left to it\n", r.Member, r.URL, r.Err)})
		case r.Err != nil:
			failed++
			_, words := poll.Describe(r.Err)
			if r.Health == news.HealthDisabled { // 410, or 404 again and again
				words += "; polling stopped: correct or remove this source in feeds.yaml"
			}
			if stateLost {
				words += "; " + unrecordedWords(r.StateErr)
			}
			lines = append(lines, line{i, fmt.Sprintf("FAIL\t%s\t%s\t%s\n", r.Member, r.URL, words)})
		case stateLost:
			failed++
			lines = append(lines, line{i, fmt.Sprintf("FAIL\t%s\t%s\t%s\n", r.Member, r.URL, unrecordedWords(r.StateErr))})
		}
		if r.Redirect != "" {
			lines = append(lines, line{i, fmt.Sprintf("MOVED\t%s\t%s\tmoved permanently to %s: update feeds.yaml\n", r.Member, r.URL, r.Redirect)})
		}
		if r.Err == nil && r.Warning != "" {
			lines = append(lines, line{i, fmt.Sprintf("WARN\t%s\t%s\t%s\n", r.Member, r.URL, r.Warning)})
		}
		if tty {
			// Failing as the summary counts it (a state not recorded too), not as PollEach
			// does (the refreshes that failed): the line would end below the summary's.
			fmt.Fprintf(out, "\r\033[Kpolled %d/%d sources, %d failing", done, len(jobs), failed)
		}
	})
	if tty {
		fmt.Fprintln(out)
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp.Compare(a.job, b.job) })
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, l := range lines {
		io.WriteString(tw, l.text)
	}
	tw.Flush()
	took := time.Since(start).Round(time.Millisecond)
	if polled < len(jobs) {
		fmt.Fprintf(out, "interrupted: polled %d of %d sources in %s: %d new items, %d failing\n", polled, len(jobs), took, newItems, failed)
		return fmt.Errorf("poll interrupted: %d of %d sources not polled", len(jobs)-polled, len(jobs))
	}
	others := ""
	if busy > 0 {
		others = fmt.Sprintf(", %d left to the process polling them", busy)
	}
	fmt.Fprintf(out, "polled %d sources in %s: %d new items, %d failing%s\n", len(jobs), took, newItems, failed, others)
	// Not a member's failure: the run did not do its work, which cron must see.
	var errs []error
	if unrecorded > 0 {
		errs = append(errs, fmt.Errorf("store unavailable: %d of %d sources not recorded", unrecorded, len(jobs)))
	}
	if unsaved > 0 {
		errs = append(errs, fmt.Errorf("the store could not save items: those of %d of %d sources not saved", unsaved, len(jobs)))
	}
	if unstated > 0 {
		errs = append(errs, fmt.Errorf("the store could not record the poll of %d of %d sources", unstated, len(jobs)))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// unrecordedWords says in plain words why a source's state was not recorded after its
// refresh (poll.Result.StateErr): in the store's own words for a write it refused.
func unrecordedWords(err error) string {
	var we *store.WriteError
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return "the store could not record the poll: the store is unavailable"
	case errors.As(err, &we):
		return "the store could not record the poll: " + we.Err.Error()
	}
	return "the store could not record the poll: " + err.Error()
}

func runCheck(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs, c := newFlags("check", env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		return err
	}
	n := 0
	for _, m := range cfg.Members {
		n += len(m.AllSources())
	}
	fmt.Fprintf(stdout, "%s: ok: %d members, %d sources\n", c.config, len(cfg.Members), n)
	return nil
}

func runPreview(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs := newFlagSet("preview")
	sel := fs.String("select", "", `selectors to try, as in feeds.yaml: 'item: article, title: h2, link: "h2 a", date: time'`)
	lang := fs.String("lang", "en", "member languages, comma-separated (for dates and detection)")
	country := fs.String("country", "", "member country (decides the time zone of local times and the order of all-digit dates)")
	tz := fs.String("timezone", "", "IANA time zone for local times on the page")
	private := fs.Bool("allow-private", false, "allow loopback and private addresses (local testing)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf(fs, "needs one URL, got %d arguments", fs.NArg())
	}
	u := fs.Arg(0)
	if _, err := time.LoadLocation(*tz); err != nil { // as feeds.yaml's timezone: is checked
		return usageErrorf(fs, "-timezone: unknown time zone %q", *tz)
	}
	src := config.Source{Page: u, Timezone: *tz}
	if *sel != "" {
		var s config.Selectors
		dec := yaml.NewDecoder(strings.NewReader("{" + strings.Trim(*sel, "{} ") + "}"))
		dec.KnownFields(true)
		if err := dec.Decode(&s); err != nil {
			return usageError{fs, fmt.Errorf("-select: %w", err)}
		}
		src.Select = &s
	}
	cfg, err := config.Parse("preview", []byte(fmt.Sprintf("fetch: {allow_private_addresses: %v}\nmembers: [{id: preview, name: Preview, homepage: %q}]\n", *private, u)))
	if err != nil {
		return err
	}
	m := cfg.Members[0]
	m.Languages = strings.Split(*lang, ",")
	m.Country = strings.ToUpper(*country)
	log := newLogger(stderr, env)
	ref := newRefresher(func() *config.Config { return cfg }, newFetcher(cfg), nil, log)
	res, items := ref.Preview(ctx, poll.Job{Member: &m, Source: src})
	if res.Err != nil {
		kind, words := poll.Describe(res.Err)
		if kind == "blocked_address" && !*private {
			words += " (-allow-private previews local and private addresses, for testing)"
		}
		return fmt.Errorf("%s: %s", u, words)
	}
	fmt.Fprintf(stdout, "%s: %d items, found by %s\n", u, len(items), res.Via)
	if res.Warning != "" {
		fmt.Fprintf(stdout, "warning: %s\n", res.Warning)
	}
	if res.Inferred != nil && res.Inferred.Item != "" {
		fmt.Fprintf(stdout, "\nInferred selectors, to paste under this source in feeds.yaml:\n  - page: %s\n    %s\n", u, res.Inferred.YAML())
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tLANG\tTITLE\tLINK")
	for _, it := range items {
		date := it.Published.Format("2006-01-02")
		switch it.Precision {
		case "month":
			date = it.Published.Format("2006-01")
		case "none":
			date = "(undated)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", date, it.Language, cut(it.Title, 70), it.Link)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// A page's dates are read in the member's languages only: with -lang left at en, a
	// French page's "28 octobre 2026" is no date, and its items look undated.
	if others := undatedLanguages(items, m.Languages); len(others) > 0 {
		fmt.Fprintf(stdout, "\nUndated items in %s: dates are read in the -lang languages only (%s); try -lang %s\n",
			strings.Join(others, ", "), *lang, strings.Join(append(others, m.Languages...), ","))
	}
	return nil
}

// undatedLanguages returns the languages, other than langs, of the items left undated.
func undatedLanguages(items []news.Item, langs []string) []string {
	var out []string
	for _, it := range items {
		l := config.BaseLanguage(it.Language)
		if it.Precision != "none" || l == "" || slices.Contains(out, l) ||
			slices.ContainsFunc(langs, func(m string) bool { return config.BaseLanguage(m) == l }) {
			continue
		}
		out = append(out, l)
	}
	return out
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func runBuild(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs, c := newFlags("build", env)
	out := fs.String("out", "", "directory to write the static site into")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf(fs, "needs -out DIR, the directory to write the site into")
	}
	cfg, st, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, err := buildServer(st, cfg, newLogger(stderr, env))
	if err != nil {
		return err
	}
	n, err := buildSite(ctx, ws, cfg, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d files to %s\n", n, *out)
	return nil
}

// buildServer is the web server whose pages build writes: static ones (see web.Options.Static).
func buildServer(st web.Reader, cfg *config.Config, log *slog.Logger) (*web.Server, error) {
	return web.New(web.Options{Store: st, Config: func() *config.Config { return cfg }, Log: log, Static: true})
}

// buildSite writes the site as static files: the web pages and the data behind them
// (rendered by the server's own handlers), the network feeds, feeds per member, per
// country and per language (countries/ch/feed.atom, languages/fr/feed.atom), the OPML
// list (opml.xml), the share page (share/index.html), the embeddable lists of the network
// (embed.html) and of each member (members/au/embed.html), and the static files the pages use. Links between pages are rewritten
// to relative ones, so the output works from any directory of any host; feeds keep
// absolute self links under network.url, as feed readers need. Files an earlier build
// wrote and this one does not are removed (see builtList); n counts the files written.
func buildSite(ctx context.Context, ws *web.Server, cfg *config.Config, out string) (n int, err error) {
	started := time.Now()
	prev, err := readBuilt(out)
	if err != nil {
		return 0, err
	}
	written := map[string]string{}
	err = writeSite(ctx, ws, cfg, func(file string, b []byte) error {
		if err := writeFile(filepath.Join(out, filepath.FromSlash(file)), b); err != nil {
			return err
		}
		written[file] = fileSum(b)
		n++
		return nil
	})
	if err != nil {
		// Nothing is removed, but what this build wrote is listed beside what the last
		// one did: the next build removes what it no longer writes of either (as this
		// build wrote it, where both did).
		for p, sum := range prev {
			if _, ok := written[p]; !ok {
				written[p] = sum
			}
		}
		if lerr := saveBuilt(out, written); lerr != nil {
			err = errors.Join(err, lerr)
		}
		return n, err
	}
	return n, removeStale(out, prev, written, started)
}

// writeSite renders the site build makes and hands each file to write, under its
// slash-separated path in the output directory.
func writeSite(ctx context.Context, ws *web.Server, cfg *config.Config, write func(file string, b []byte) error) error {
	h := ws.Handler()
	formats := []string{"rss", "atom", "json"}
	// files maps a served address (path?query) to the file that holds it.
	files := map[string]string{
		"/":             "index.html",
		"/sources":      "sources/index.html",
		"/sources.json": "sources.json",
		"/sources.csv":  "sources.csv",
		"/opml":         "opml.xml",
		"/share":        "share/index.html",
		"/embed":        "embed.html",
	}
	pages := []string{"/", "/sources", "/share", "/embed"}
	type feedFile struct {
		format, dir string
		filters     url.Values
	}
	var feeds []feedFile
	addFeeds := func(dir, key, value string) {
		for _, f := range formats {
			filters := url.Values{}
			served := "/" + dir + "feed." + f
			if key != "" {
				filters.Set(key, value)
				served = "/feed." + f + "?" + filters.Encode()
			}
			feeds = append(feeds, feedFile{f, dir, filters})
			files[served] = dir + "feed." + f
		}
	}
	addFeeds("", "", "")
	countries := map[string]bool{}
	for _, m := range cfg.Members {
		files["/members/"+m.ID] = "members/" + m.ID + "/index.html"
		pages = append(pages, "/members/"+m.ID)
		embed := "/embed?" + url.Values{"member": {m.ID}}.Encode()
		files[embed] = "members/" + m.ID + "/embed.html"
		pages = append(pages, embed)
		addFeeds("members/"+m.ID+"/", "member", m.ID)
		for _, f := range formats {
			files["/members/"+m.ID+"/feed."+f] = "members/" + m.ID + "/feed." + f
		}
		if m.Country != "" {
			countries[m.Country] = true
		}
	}
	for _, c := range slices.Sorted(maps.Keys(countries)) {
		addFeeds("countries/"+strings.ToLower(c)+"/", "country", c)
	}
	// Items are filed under base languages: a member's zh-Hant or en-GB is zh or en.
	langs := cfg.PublishedLanguages()
	if l := config.BaseLanguage(cfg.Network.Language); l != "" && !slices.Contains(langs, l) {
		langs = append(langs, l)
		slices.Sort(langs)
	}
	for _, l := range langs {
		addFeeds("languages/"+l+"/", "lang", l)
	}

	for _, f := range feeds {
		b, err := ws.StaticFeed(ctx, f.format, f.filters, f.dir)
		if err != nil {
			return err
		}
		if err := write(f.dir+"feed."+f.format, b); err != nil {
			return err
		}
	}
	for _, p := range []string{"/sources.json", "/sources.csv", "/opml"} {
		b, err := get(ctx, h, p)
		if err != nil {
			return err
		}
		if err := write(files[p], b); err != nil {
			return err
		}
	}
	// Static files: whatever the pages link to under /static/.
	var bodies [][]byte
	for _, p := range pages {
		b, err := get(ctx, h, p)
		if err != nil {
			return err
		}
		bodies = append(bodies, b)
		for _, ref := range staticRefs(b) {
			ref, _, _ = strings.Cut(ref, "?")
			if _, done := files[ref]; done {
				continue
			}
			sb, err := get(ctx, h, ref)
			if err != nil {
				return err
			}
			files[ref] = strings.TrimPrefix(ref, "/")
			if err := write(files[ref], sb); err != nil {
				return err
			}
		}
	}
	for i, p := range pages {
		if err := write(files[p], relativeLinks(bodies[i], p, files[p], files, cfg.Network.URL)); err != nil {
			return err
		}
	}
	return nil
}

var (
	linkAttr = regexp.MustCompile(`\b(href|src|action)="([^"]*)"`)
	// relativePath matches a relative path: not "#frag", "?query", "//host", "/path" nor "scheme:".
	relativePath = regexp.MustCompile(`^[^/?#:]+(/|$)`)
)

// relativeLinks rewrites the links of an HTML page served at addr and written to file: an
// address the build wrote (root-relative, absolute under base, or a relative path such as
// a form's action="share") becomes a path relative to file; any other root-relative
// address (a paged or filtered view), and every form's action (its fields become a query
// the written file would ignore), points at base, the live site.
func relativeLinks(page []byte, addr, file string, files map[string]string, base string) []byte {
	depth := strings.Count(file, "/")
	up := strings.Repeat("../", depth)
	return linkAttr.ReplaceAllFunc(page, func(m []byte) []byte {
		sub := linkAttr.FindSubmatch(m)
		attr, v := string(sub[1]), html.UnescapeString(string(sub[2]))
		if rest, ok := strings.CutPrefix(v, base); ok {
			v = "/" + rest
		}
		if relativePath.MatchString(v) {
			// A path relative to the served address ("share" on /share): resolve it
			// there, so it can be mapped to the file written for it.
			v = path.Join(path.Dir(strings.SplitN(addr, "?", 2)[0]), v)
		}
		if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") {
			return m
		}
		addr, frag, _ := strings.Cut(v, "#")
		target, ok := files[addr]
		if !ok {
			if p, q, hasQ := strings.Cut(addr, "?"); hasQ {
				// The same filter in another order is the same file.
				if vals, err := url.ParseQuery(q); err == nil {
					target, ok = files[p+"?"+vals.Encode()]
				}
			}
		}
		var out string
		switch {
		case attr == "action":
			// A form sends its fields as the query, which a written file ignores:
			// a filter chosen on a static page is applied by the live site.
			out = strings.TrimSuffix(base, "/") + strings.SplitN(addr, "?", 2)[0]
		case ok:
			out = up + target
		default:
			out = strings.TrimSuffix(base, "/") + addr
		}
		if frag != "" {
			out += "#" + frag
		}
		return []byte(attr + `="` + html.EscapeString(out) + `"`)
	})
}

func staticRefs(body []byte) []string {
	var out []string
	s := string(body)
	for {
		i := strings.Index(s, `"/static/`)
		if i < 0 {
			return out
		}
		s = s[i+1:]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j:]
	}
}

func get(ctx context.Context, h http.Handler, path string) ([]byte, error) {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("render %s: HTTP %d: %s", path, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return rec.Body.Bytes(), nil
}

// writeFile writes through a temporary file and a rename, so a reader never sees half a file.
// The rename comes after the whole file is written and closed, so a build killed midway
// leaves each file whole, the last build's or its own. The files are not synced: a sync
// of each made a build of 850 files three times slower (1.2 s to 3.4 s on ext4), and a
// sync of the directories at the end keeps the names, not what the files hold. A machine
// that loses power within seconds of a build may come back with some of them empty on a
// file system that does not write a file's data before its rename (ext4's default
// auto_da_alloc does for a file renamed over another, XFS does not): building again
// rewrites them all.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return replaceFile(path, b, 0o644, false)
}

// replaceFile puts b in place of the file at path through a temporary file beside it
// and a rename, with permissions perm; sync flushes it to disk before the rename. The
// temporary file has a name of its own (two writers never share one) and is removed
// when the write fails (a full disk left a half-written "feed.atom.tmp" in the site).
func replaceFile(path string, b []byte, perm os.FileMode, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), perm) // CreateTemp's is 0600: a web server must read the site
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// saveConfig replaces a config file: the file a symbolic link names (the link is kept,
// where a rename replaced it by a file the service never reads), with its permissions
// (it may hold a webhook's secret), synced, as an editor saves it.
func saveConfig(path string, b []byte) error {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	return replaceFile(path, b, perm, true)
}

func runDemo(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs, c := newFlags("demo", env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	log := newLogger(stderr, env)
	// Fail before polling when the address is taken.
	if ln, err := net.Listen("tcp", c.addr); err != nil {
		return fmt.Errorf("listen %s: %w", c.addr, err)
	} else {
		ln.Close()
	}
	n, err := demo.Start(ctx)
	if err != nil {
		return err
	}
	defer n.Close()
	cfg, err := config.Parse("demo feeds.yaml", n.Config())
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	storePath := c.store
	if !c.storeSet && !flagSet(fs, "store") {
		dir, err := os.MkdirTemp("", "networkfeed-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		storePath = filepath.Join(dir, "demo.db")
	}
	st, err := openStore(ctx, storePath)
	if err != nil {
		return err
	}
	defer st.Close()
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	fmt.Fprintf(stdout, "demo network of %d member sites at %s\n", len(cfg.Members), n.URL)
	ref := newRefresher(current.Load, newFetcher(cfg), st, log)
	if err := pollOnce(ctx, ref, poll.Jobs(cfg), 8, stdout); err != nil {
		return err
	}
	return serve(ctx, serveOptions{
		log: log, store: st, config: &current, addr: c.addr, web: true, poll: true, workers: 4, stdout: stdout,
		listening: func(addr string) {
			host := addr
			if strings.HasPrefix(addr, "[::]") || strings.HasPrefix(addr, "0.0.0.0") {
				host = "localhost" + addr[strings.LastIndex(addr, ":"):]
			}
			next := *cfg
			next.Network.URL = "http://" + host + "/"
			current.Store(&next)
			fmt.Fprintf(stdout, "open http://%s/ (Ctrl-C to stop)\n", host)
		},
	})
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
