package app

import (
	"context"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/poll"
)

// stateLimitStore makes the embedded store's writes of one source's state fail as they
// do on a full disk: during PutSource for a URL ending in suffix, the process may not
// write past the file's first two pages, the meta pages (RLIMIT_FSIZE: the kernel
// refuses the commit's page writes with EFBIG, and Go ignores the SIGXFSZ that comes
// with it). Items, and the other sources' states, are written as usual.
type stateLimitStore struct {
	poll.Store
	suffix string
}

func (s stateLimitStore) PutSource(ctx context.Context, st news.SourceState) error {
	if !strings.HasSuffix(st.URL, s.suffix) {
		return s.Store.PutSource(ctx, st)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		return err
	}
	lim := syscall.Rlimit{Cur: 2 * 4096, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		return err
	}
	defer syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	return s.Store.PutSource(ctx, st)
}

// TestPollFailsWhenTheStoreCannotRecordAState: a source whose items were stored but
// whose state the store could not write (the disk filled between the two writes) is
// listed, naming the store, and the poll returns an error, a non-zero exit. It was
// counted a success and poll exited 0, though its health, last success, validators and
// next poll were not recorded (an audit with a real full disk, where a source's items
// fitted and the retention trim written after them did not).
func TestPollFailsWhenTheStoreCannotRecordAState(t *testing.T) {
	var bolt poll.Store
	// One worker: the state's write is committed alone, not with b's (whose own write,
	// run again alone, would then succeed, but the limit is the process's).
	out, err := pollThrough(t, func(s poll.Store) poll.Store { bolt = s; return stateLimitStore{s, "/a.xml"} }, 1, "a", "b")
	t.Logf("poll output:\n%s", out)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 sources") {
		t.Errorf("poll whose store could not record a source's state: err %v, want one saying 1 of 2 sources were not recorded", err)
	}
	if !regexp.MustCompile(`(?m)^FAIL +m-a +\S+/a\.xml +the store could not record the poll: .*file too large`).MatchString(out) {
		t.Errorf("poll output:\n%s\nwant a's FAIL line naming the store and its error", out)
	}
	if regexp.MustCompile(`(?m)^FAIL +m-b `).MatchString(out) {
		t.Errorf("b listed as failing; its poll was recorded")
	}
	a := regexp.MustCompile(`(?m)^FAIL +m-a +(\S+/a\.xml) `).FindStringSubmatch(out)
	if a == nil {
		return
	}
	if _, err := bolt.Source(context.Background(), a[1]); err == nil {
		t.Errorf("a's state was recorded: the test did not make its write fail")
	}
}

// TestPollProgressCountsAnUnrecordedStateAsFailing: on a terminal, the progress line's
// failing count ends where the summary's does. A source whose state the store could not
// write is listed as failing in the summary, but the progress line, counting only the
// refreshes that failed, ended at "0 failing" above "1 failing".
func TestPollProgressCountsAnUnrecordedStateAsFailing(t *testing.T) {
	term, screenText := openTerminal(t)
	err := pollThroughTo(t, term, func(s poll.Store) poll.Store { return stateLimitStore{s, "/a.xml"} }, 1, "a", "b")
	if err == nil {
		t.Fatal("poll whose store could not record a source's state returned no error")
	}
	lines := screen(screenText())
	t.Logf("terminal:\n%s", strings.Join(lines, "\n"))
	progress := regexp.MustCompile(`^polled 2/2 sources, (\d+) failing$`)
	summary := regexp.MustCompile(`^polled 2 sources in \S+: \d+ new items, (\d+) failing$`)
	var inProgress, inSummary string
	for _, l := range lines {
		if m := progress.FindStringSubmatch(l); m != nil {
			inProgress = m[1]
		}
		if m := summary.FindStringSubmatch(l); m != nil {
			inSummary = m[1]
		}
	}
	if inSummary != "1" || inProgress != inSummary {
		t.Errorf("the progress line ends at %q failing, the summary says %q; want 1 in both", inProgress, inSummary)
	}
}
