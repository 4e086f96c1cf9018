package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/alerts"
	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/redistest"
)

// stored counts what the store at dsn holds: items and source states by member.
func stored(t *testing.T, dsn string) (items, states map[string]int) {
	t.Helper()
	st, err := openStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, states = map[string]int{}, map[string]int{}
	q := news.Query{Limit: 100}
	for {
		got, err := st.Items(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, it := range got {
			items[it.Member]++
		}
		q.Before = news.Cursor{Time: got[len(got)-1].SortTime(), ID: got[len(got)-1].ID}
	}
	sts, err := st.SourceStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		states[s.Member]++
	}
	return items, states
}

// editConfig rewrites the config at path with old replaced by new.
func editConfig(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("config has no %q", old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// putAlerts stores list as the alerts record of the store at dsn (in place of any),
// an hour apart, newest first.
func putAlerts(t *testing.T, dsn string, list ...alerts.Alert) {
	t.Helper()
	st, err := openStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range list {
		list[i].At = at.Add(-time.Duration(i) * time.Hour)
	}
	if err := alerts.Put(context.Background(), st, list); err != nil {
		t.Fatal(err)
	}
}

// storedAlerts lists the IDs of the alerts stored at dsn (what the alerts feed shows).
func storedAlerts(t *testing.T, dsn string) string {
	t.Helper()
	st, err := openStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := alerts.Load(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	return strings.Join(ids, " ")
}

const usaLine = "  - {id: iss-usa, name: ISS USA, country: US, region: Americas, languages: [en], sources: [{feed: \"%[1]s/us/atom.xml\"}]}\n"

// TestPrune: the items of a member removed from feeds.yaml, and its sources' states,
// stayed in the store forever (hidden); `prune` removes them, says what it removed
// (-dry-run: what it would), keeps a staying member's removed source unless -sources,
// refuses to run on a config that does not load, and leaves no tombstones: the member
// put back gets its items again.
func TestPrune(t *testing.T) {
	sites := memberSites(t)
	cfgPath := writeConfig(t, sites.URL)
	dsn := filepath.Join(t.TempDir(), "nf.db")
	pruneScenario(t, sites.URL, cfgPath, dsn)
}

// TestPruneRedis: the same on Redis, and a source whose lease another process holds
// (a serve whose feeds.yaml still lists it is polling it) is left alone.
func TestPruneRedis(t *testing.T) {
	sites := memberSites(t)
	cfgPath := writeConfig(t, sites.URL)
	dsn := redistest.Server(t)
	st, err := openStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pruneScenario(t, sites.URL, cfgPath, dsn)

	// Remove iss-japan while a serve worker polls its feed.
	jp := sites.URL + "/jp/feed.json"
	editConfig(t, cfgPath, fmt.Sprintf(`  - {id: iss-japan, name: ISS Japan, country: JP, region: Asia-Pacific, languages: [ja], sources: [{feed: "%s"}]}`+"\n", jp), "")
	if ok, err := st.Claim(context.Background(), "poll:"+jp, "serve-worker-1", time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	before, _ := stored(t, dsn)
	out, code := runCmd(t, "prune", "-config", cfgPath, "-store", dsn)
	if code != 1 || !strings.Contains(out, "BUSY") || !strings.Contains(out, "1 sources left alone") {
		t.Errorf("prune beside a worker polling the source: exit %d\n%s", code, out)
	}
	if after, _ := stored(t, dsn); after["iss-japan"] != before["iss-japan"] || before["iss-japan"] == 0 {
		t.Errorf("iss-japan's items: %d before, %d after a prune that had to leave them", before["iss-japan"], after["iss-japan"])
	}
	if got := storedAlerts(t, dsn); !strings.Contains(got, "a-jp") {
		t.Errorf("alerts after a prune that had to leave iss-japan: %q, want its alert kept", got)
	}
	if err := st.Release(context.Background(), "poll:"+jp, "serve-worker-1"); err != nil {
		t.Fatal(err)
	}
	if out, code := runCmd(t, "prune", "-config", cfgPath, "-store", dsn); code != 0 || !strings.Contains(out, "iss-japan") {
		t.Errorf("prune once the worker is done: exit %d\n%s", code, out)
	}
	if after, _ := stored(t, dsn); after["iss-japan"] != 0 {
		t.Errorf("iss-japan's items after prune: %d", after["iss-japan"])
	}
	if got := storedAlerts(t, dsn); strings.Contains(got, "a-jp") {
		t.Errorf("alerts after iss-japan's prune: %q, want its alert gone", got)
	}
}

func pruneScenario(t *testing.T, base, cfgPath, dsn string) {
	t.Helper()
	if out, code := runCmd(t, "poll", "-config", cfgPath, "-store", dsn); code != 0 {
		t.Fatalf("poll exit %d: %s", code, out)
	}
	items, states := stored(t, dsn)
	if items["iss-usa"] == 0 || states["iss-usa"] != 1 || items["iss-australia"] == 0 {
		t.Fatalf("stored after poll: items %v, states %v", items, states)
	}

	// iss-usa leaves the network; iss-australia's feed is replaced by another URL.
	good, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	editConfig(t, cfgPath, fmt.Sprintf(usaLine, base), "")
	editConfig(t, cfgPath, base+"/au/feed.xml", base+"/au/new-feed.xml")

	edited, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}

	// A config that does not load prunes nothing.
	if err := os.WriteFile(cfgPath, append(edited, "  - {id: \"\"}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runCmd(t, "prune", "-config", cfgPath, "-store", dsn); code != 1 {
		t.Errorf("prune with a broken config: exit %d\n%s", code, out)
	}
	if err := os.WriteFile(cfgPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := stored(t, dsn); got["iss-usa"] != items["iss-usa"] {
		t.Fatalf("iss-usa's items after a prune with a broken config: %d, want %d", got["iss-usa"], items["iss-usa"])
	}

	// An alert of each: the removed member's, the removed feed's, a staying source's.
	putAlerts(t, dsn,
		alerts.Alert{ID: "a-usa", Member: "iss-usa", Source: base + "/us/atom.xml", Kind: alerts.KindFailing},
		alerts.Alert{ID: "a-au", Member: "iss-australia", Source: base + "/au/feed.xml", Kind: alerts.KindStale},
		alerts.Alert{ID: "a-jp", Member: "iss-japan", Source: base + "/jp/feed.json", Kind: alerts.KindFailing})

	out, code := runCmd(t, "prune", "-dry-run", "-config", cfgPath, "-store", dsn)
	if !strings.Contains(out, "would remove 1 of their alerts") {
		t.Errorf("prune -dry-run does not count iss-usa's alert:\n%s", out)
	}
	if got := storedAlerts(t, dsn); got != "a-usa a-au a-jp" {
		t.Errorf("alerts after prune -dry-run: %q", got)
	}
	wantLine := regexp.MustCompile(fmt.Sprintf(`(?m)^iss-usa +%s +%d +member not in `, regexp.QuoteMeta(base+"/us/atom.xml"), items["iss-usa"]))
	if code != 0 || !wantLine.MatchString(out) || !strings.Contains(out, "dry run: would remove") ||
		!strings.Contains(out, "1 sources removed from members that stay") {
		t.Errorf("prune -dry-run: exit %d, want a line %v\n%s", code, wantLine, out)
	}
	if got, _ := stored(t, dsn); got["iss-usa"] != items["iss-usa"] {
		t.Fatalf("iss-usa's items after prune -dry-run: %d, want %d", got["iss-usa"], items["iss-usa"])
	}

	out, code = runCmd(t, "prune", "-config", cfgPath, "-store", dsn)
	if code != 0 || !wantLine.MatchString(out) || !strings.Contains(out, fmt.Sprintf("removed %d items and 1 source states", items["iss-usa"])) {
		t.Errorf("prune: exit %d, want a line %v\n%s", code, wantLine, out)
	}
	got, gotStates := stored(t, dsn)
	if got["iss-usa"] != 0 || gotStates["iss-usa"] != 0 {
		t.Errorf("after prune: iss-usa has %d items, %d states", got["iss-usa"], gotStates["iss-usa"])
	}
	if got["iss-australia"] != items["iss-australia"] || got["iss-japan"] != items["iss-japan"] {
		t.Errorf("prune touched members that stay: before %v, after %v", items, got)
	}
	if got := storedAlerts(t, dsn); !strings.Contains(out, "removed 1 of their alerts") || got != "a-au a-jp" {
		t.Errorf("alerts after prune: %q (want iss-usa's gone, the others kept)\n%s", got, out)
	}

	// -sources: the staying member's removed feed goes too.
	out, code = runCmd(t, "prune", "-sources", "-config", cfgPath, "-store", dsn)
	if code != 0 || !regexp.MustCompile(fmt.Sprintf(`(?m)^iss-australia +%s +%d +source not in `, regexp.QuoteMeta(base+"/au/feed.xml"), items["iss-australia"])).MatchString(out) {
		t.Errorf("prune -sources: exit %d\n%s", code, out)
	}
	if got, _ := stored(t, dsn); got["iss-australia"] != 0 {
		t.Errorf("after prune -sources: iss-australia has %d items", got["iss-australia"])
	}
	if got := storedAlerts(t, dsn); got != "a-jp" {
		t.Errorf("alerts after prune -sources: %q (want the removed feed's gone)", got)
	}
	if out, code := runCmd(t, "prune", "-sources", "-config", cfgPath, "-store", dsn); code != 0 || !strings.Contains(out, "nothing to prune") {
		t.Errorf("prune again: exit %d\n%s", code, out)
	}

	// iss-usa back in the network: no tombstone keeps its items out.
	if err := os.WriteFile(cfgPath, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runCmd(t, "poll", "-config", cfgPath, "-store", dsn); code != 0 {
		t.Fatalf("poll exit %d: %s", code, out)
	}
	if got, _ := stored(t, dsn); got["iss-usa"] != items["iss-usa"] || got["iss-australia"] != items["iss-australia"] {
		t.Errorf("after putting them back: %v, want %v", got, items)
	}
}

// TestPruneNoState: the items of a removed member whose source's state is no longer its
// (states are by URL: another member's poll of the same URL overwrote it) were left
// behind, as prune found what to remove through source states only; on bbolt, it finds
// them through the members the index lists.
func TestPruneNoState(t *testing.T) {
	sites := memberSites(t)
	cfgPath := writeConfig(t, sites.URL)
	dsn := filepath.Join(t.TempDir(), "nf.db")
	if out, code := runCmd(t, "poll", "-config", cfgPath, "-store", dsn); code != 0 {
		t.Fatalf("poll exit %d: %s", code, out)
	}
	us := sites.URL + "/us/atom.xml"
	st, err := openStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	state, err := st.Source(context.Background(), us)
	if err != nil {
		t.Fatal(err)
	}
	state.Member = "iss-japan" // as if iss-japan listed the same feed and polled it last
	if err := st.PutSource(context.Background(), state); err != nil {
		t.Fatal(err)
	}
	st.Close()
	items, _ := stored(t, dsn)
	editConfig(t, cfgPath, fmt.Sprintf(usaLine, sites.URL), "")

	out, code := runCmd(t, "prune", "-config", cfgPath, "-store", dsn)
	wantLine := regexp.MustCompile(fmt.Sprintf(`(?m)^iss-usa +%s +%d +member not in .*no source state`, regexp.QuoteMeta(us), items["iss-usa"]))
	if code != 0 || !wantLine.MatchString(out) || !strings.Contains(out, "and 0 source states") {
		t.Errorf("prune: exit %d, want a line %v and no state removed\n%s", code, wantLine, out)
	}
	if got, _ := stored(t, dsn); got["iss-usa"] != 0 || got["iss-japan"] != items["iss-japan"] || items["iss-usa"] == 0 {
		t.Errorf("iss-usa's items after prune: %d of %d (iss-japan's: %d of %d)", got["iss-usa"], items["iss-usa"], got["iss-japan"], items["iss-japan"])
	}
}
