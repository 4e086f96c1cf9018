package app

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/iss-network/networkfeed/internal/alerts"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
)

// pruneLeaseTTL is how long the lease prune takes on a source while it removes its items
// lives: longer than any removal, and a prune killed meanwhile holds back only a source
// no poller lists.
const pruneLeaseTTL = 10 * time.Minute

// pruneTarget is a stored source state prune removes, with the items its member stored
// from it.
type pruneTarget struct {
	member, url string
	memberGone  bool // the member is not in the config (else: the source is not one of its)
	noState     bool // found through the member's items: no state of the source is the member's
}

// memberLister is what a store that can list the members with items stored, cheaply,
// provides (bbolt, through its index); on the others, prune finds a removed member's
// items through its sources' states only.
type memberLister interface {
	Members(ctx context.Context) ([]string, error)
}

// statelessTargets lists the sources of the items stored by members the config does not
// list, where targets (found through source states) do not have them already: a member
// whose state of a source another member's poll overwrote (states are by URL), or whose
// state is otherwise gone. It walks the timelines of those members only.
func statelessTargets(ctx context.Context, st store.Store, cfg *config.Config, targets []pruneTarget) ([]pruneTarget, error) {
	ml, ok := st.(memberLister)
	if !ok {
		return nil, nil
	}
	members, err := ml.Members(ctx)
	if err != nil {
		return nil, err
	}
	have := map[[2]string]bool{}
	for _, t := range targets {
		have[[2]string{t.member, t.url}] = true
	}
	var out []pruneTarget
	for _, m := range members {
		if _, ok := cfg.Member(m); ok {
			continue
		}
		err := eachItemOf(ctx, st, m, func(it *news.Item) {
			if k := [2]string{m, it.Source}; !have[k] {
				have[k] = true
				out = append(out, pruneTarget{member: m, url: it.Source, memberGone: true, noState: true})
			}
		})
		if err != nil {
			return nil, fmt.Errorf("read the items of %s: %w", m, err)
		}
	}
	return out, nil
}

// eachItemOf calls f with every item member has stored, newest first, reading a page
// of them at a time.
func eachItemOf(ctx context.Context, st store.Store, member string, f func(*news.Item)) error {
	q := news.Query{Members: []string{member}, Limit: 500}
	for {
		items, err := st.Items(ctx, q)
		if err != nil || len(items) == 0 {
			return err
		}
		for i := range items {
			f(&items[i])
		}
		last := items[len(items)-1]
		q.Before = news.Cursor{Time: last.SortTime(), ID: last.ID}
	}
}

// alertGone tells whether prune removes alert a from the stored alerts record: it is
// of a member the config does not list, or (with sources) of a source removed from a
// member it lists, and no process that polls it held prune back (busy).
func alertGone(cfg *config.Config, a alerts.Alert, sources bool, busy map[[2]string]bool) bool {
	m, ok := cfg.Member(a.Member)
	for k := range busy {
		if k[0] == a.Member && (k[1] == a.Source || !ok) {
			return false
		}
	}
	if !ok {
		return true
	}
	if !sources {
		return false
	}
	for _, s := range m.AllSources() {
		if s.URL() == a.Source {
			return false
		}
	}
	return true
}

// pruneAlerts removes from the stored alerts record those alertGone tells (dryRun:
// counts them, removing nothing), and returns how many. It reads, filters and writes the
// record as an Observer adds to it, so a serve on Redis that stores an alert in the same
// moment may write the removed ones back (as it may lose one of another process's): a
// prune again removes them.
func pruneAlerts(ctx context.Context, st store.Store, cfg *config.Config, sources, dryRun bool, busy map[[2]string]bool) (int, error) {
	list, err := alerts.Load(ctx, st)
	if err != nil {
		return 0, err
	}
	keep := slices.DeleteFunc(slices.Clone(list), func(a alerts.Alert) bool { return alertGone(cfg, a, sources, busy) })
	n := len(list) - len(keep)
	if n == 0 || dryRun {
		return n, nil
	}
	return n, alerts.Put(ctx, st, keep)
}

// pruneTargets lists the stored states (of each source, its newest) whose member the
// config does not list, and, with sources, those of sources removed from a member it
// lists; kept counts the latter when sources is false (their items are shown). States
// that are no member's (the alerts, stored as one under alerts.StoreKey) are never
// listed.
func pruneTargets(cfg *config.Config, states []news.SourceState, sources bool) (targets []pruneTarget, kept int) {
	configured := make(map[string]map[string]bool, len(cfg.Members))
	for _, m := range cfg.Members {
		urls := map[string]bool{}
		for _, s := range m.AllSources() {
			urls[s.URL()] = true
		}
		configured[m.ID] = urls
	}
	for _, st := range states {
		if st.URL == alerts.StoreKey || st.Member == "" {
			continue // not a member's source: the stored alerts, under a reserved key
		}
		urls, ok := configured[st.Member]
		switch {
		case !ok:
			targets = append(targets, pruneTarget{member: st.Member, url: st.URL, memberGone: true})
		case urls[st.URL]:
		case sources:
			targets = append(targets, pruneTarget{member: st.Member, url: st.URL})
		default:
			kept++
		}
	}
	slices.SortFunc(targets, func(a, b pruneTarget) int {
		return cmp.Or(cmp.Compare(a.member, b.member), cmp.Compare(a.url, b.url))
	})
	return targets, kept
}

// runPrune removes from the store what the config no longer lists: for each stored
// source state whose member is not in feeds.yaml (and with -sources, whose source is not
// one of its member's), the items that member stored from it and the state; on a store
// that lists its members, also the items of a removed member no state leads to
// (statelessTargets); and their alerts from the stored alerts record (pruneAlerts). Nothing
// is tombstoned: a member put back later starts afresh, and its sources' items come
// back as they list them. A config that does not load prunes nothing (open fails first).
func runPrune(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	fs, c := newFlags("prune", env)
	dryRun := fs.Bool("dry-run", false, "print what would be removed, and remove nothing")
	sources := fs.Bool("sources", false, "also remove the items of sources removed from members that stay (shown until then, as the member's news)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg, st, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	states, err := st.SourceStates(ctx)
	if err != nil {
		return fmt.Errorf("read source states: %w", err)
	}
	targets, kept := pruneTargets(cfg, states, *sources)
	more, err := statelessTargets(ctx, st, cfg, targets)
	if err != nil {
		return err
	}
	targets = append(targets, more...)
	hint := func() {
		if kept > 0 {
			fmt.Fprintf(stdout, "%d sources removed from members that stay keep their items (shown as the member's news): -sources removes them too\n", kept)
		}
	}
	if len(targets) == 0 {
		n, err := pruneAlerts(ctx, st, cfg, *sources, *dryRun, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "nothing to prune: the store holds no source of a member %s does not list\n", c.config)
		printAlerts(stdout, n, *dryRun)
		hint()
		return nil
	}
	var counts map[[2]string]int
	if *dryRun {
		if counts, err = storedCounts(ctx, st, targets); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tSOURCE\tITEMS\tWHY")
	items, done, noState := 0, 0, 0
	busy := map[[2]string]bool{}
	owner := poll.NewOwner()
	for _, t := range targets {
		why := "member not in " + c.config
		if !t.memberGone {
			why = "source not in " + c.config
		}
		n := counts[[2]string{t.member, t.url}]
		if !*dryRun {
			var ok bool
			n, ok, err = forgetLeased(ctx, st, t, owner)
			if err != nil {
				tw.Flush()
				return err
			}
			if !ok {
				busy[[2]string{t.member, t.url}] = true
				fmt.Fprintf(tw, "%s\t%s\t-\tBUSY: being polled by another process, whose feeds.yaml lists it: left alone\n", t.member, t.url)
				continue
			}
		}
		items += n
		done++
		if t.noState {
			noState++
			why += " (no source state of its)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.member, t.url, n, why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	nAlerts, err := pruneAlerts(ctx, st, cfg, *sources, *dryRun, busy)
	if err != nil {
		return err
	}
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: would remove %d items and %d source states; nothing removed\n", items, done-noState)
	} else {
		fmt.Fprintf(stdout, "removed %d items and %d source states\n", items, done-noState)
	}
	printAlerts(stdout, nAlerts, *dryRun)
	hint()
	if len(busy) > 0 {
		return fmt.Errorf("%d sources left alone: a process polls them (reload its feeds.yaml, then prune again)", len(busy))
	}
	return nil
}

// printAlerts says how many alerts of what prune removes left the alerts record (and
// its feed), when any did or would.
func printAlerts(w io.Writer, n int, dryRun bool) {
	switch {
	case n == 0:
	case dryRun:
		fmt.Fprintf(w, "dry run: would remove %d of their alerts (the alerts feed)\n", n)
	default:
		fmt.Fprintf(w, "removed %d of their alerts (the alerts feed)\n", n)
	}
}

// forgetLeased removes t's items and state under the source's poll lease, so that it
// never runs while another process sharing the store polls the source (one whose
// feeds.yaml still lists it); ok is false when one holds the lease.
func forgetLeased(ctx context.Context, st store.Store, t pruneTarget, owner string) (n int, ok bool, err error) {
	lease := poll.LeaseName(t.url)
	ok, err = st.Claim(ctx, lease, owner, pruneLeaseTTL)
	if err != nil || !ok {
		return 0, false, err // the stores' errors name the lease
	}
	defer st.Release(context.WithoutCancel(ctx), lease, owner)
	n, err = st.Forget(ctx, t.member, t.url)
	return n, true, err
}

// storedCounts counts the items each target's member stored from its source, walking
// the timeline of each member concerned (what -dry-run prints).
func storedCounts(ctx context.Context, st store.Store, targets []pruneTarget) (map[[2]string]int, error) {
	counts := map[[2]string]int{}
	want := map[[2]string]bool{}
	var members []string
	for _, t := range targets {
		want[[2]string{t.member, t.url}] = true
		if !slices.Contains(members, t.member) {
			members = append(members, t.member)
		}
	}
	for _, m := range members {
		err := eachItemOf(ctx, st, m, func(it *news.Item) {
			if k := [2]string{m, it.Source}; want[k] {
				counts[k]++
			}
		})
		if err != nil {
			return nil, fmt.Errorf("count the items of %s: %w", m, err)
		}
	}
	return counts, nil
}
