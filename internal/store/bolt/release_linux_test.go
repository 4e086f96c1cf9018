package bolt

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
)

// mappedKB is how much of the file at path this process has resident in its mappings
// (the Rss lines of /proc/self/smaps for that file), in KiB.
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	kb, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && fields[5] == path // a mapping's first line
		case in && len(fields) == 3 && fields[0] == "Rss:":
			n, _ := strconv.Atoi(fields[1])
			kb += n
		}
	}
	return kb
}

// fillItems stores benchItem 0 to n-1, 200 a batch.
func fillItems(t *testing.T, s *Store, n int) {
	t.Helper()
	items := make([]news.Item, 0, 200)
	for i := range n {
		items = append(items, benchItem(i))
		if len(items) == cap(items) || i == n-1 {
			if _, err := s.Upsert(t.Context(), items); err != nil {
				t.Fatal(err)
			}
			items = items[:0]
		}
	}
}

// TestOpenLetsGoOfMappedFile checks that opening a store does not leave the story log
// it read mapped (it counted in a new serve's RSS): reading the log maps it, and Open
// lets go of what it mapped.
func TestOpenLetsGoOfMappedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fillItems(t, s, 3000)
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.bands.Load().Seq() != 3000 {
		t.Fatalf("index holds %d filings after reopen, want 3000", s.bands.Load().Seq())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// A few pages may be mapped again by the writer's first steps; the story log of
	// 3,000 items is over a megabyte.
	if kb := mappedKB(t, path); kb > 256 {
		t.Errorf("after Open, %d KiB of the %d KiB file are mapped, want at most 256", kb, fi.Size()/1024)
	}
	if _, err := s.Item(t.Context(), benchItem(7).ID); err != nil {
		t.Errorf("reading an item after the release: %v", err)
	}
}

// TestStoreLetsGoOfMappedFileAgain checks that a running store does not keep what its
// reads map: reading every item maps much of the file, and the releaser lets go of it.
func TestStoreLetsGoOfMappedFileAgain(t *testing.T) {
	defer func(d time.Duration) { releaseEvery = d }(releaseEvery)
	releaseEvery = 20 * time.Millisecond
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fillItems(t, s, 3000)
	read := func() {
		for i := range 3000 {
			if _, err := s.Item(t.Context(), benchItem(i).ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	read()
	deadline := time.Now().Add(10 * time.Second)
	for kb := mappedKB(t, path); kb > 256; kb = mappedKB(t, path) {
		if time.Now().After(deadline) {
			t.Fatalf("%d KiB of the file still mapped 10 s after reading every item, want at most 256", kb)
		}
		time.Sleep(10 * time.Millisecond)
	}
	read() // the pages let go of read as before
}
