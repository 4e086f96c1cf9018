package bolt

import (
	"reflect"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

// An item given twice in one batch is inserted, then updated, as two batches in turn
// would leave it: what prepareNew works out for it is the first copy's, not the last's.
func TestUpsertSameIDTwiceInOneBatch(t *testing.T) {
	a := storetest.Story("gs", 1, 7)
	b := storetest.Story("gs", 1, 9) // same ID, other words
	b.Summary = ""                   // kept from the stored copy by the update
	b.Published = a.Published.Add(-time.Hour)

	one := openTemp(t)
	got1, err := one.Upsert(t.Context(), []news.Item{a, b})
	if err != nil {
		t.Fatal(err)
	}
	two := openTemp(t)
	if _, err := two.Upsert(t.Context(), []news.Item{a}); err != nil {
		t.Fatal(err)
	}
	r2, err := two.Upsert(t.Context(), []news.Item{b})
	if err != nil {
		t.Fatal(err)
	}
	if got1.New != 1 || got1.Updated != r2.Updated {
		t.Errorf("one batch: %+v; in turn the second reports %+v", got1, r2)
	}
	x, err := one.Item(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	y, err := two.Item(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, y) {
		t.Errorf("one batch stored\n%+v\nin turn\n%+v", x, y)
	}
	for _, s := range []*Store{one, two} {
		its, err := s.Items(t.Context(), news.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(its) != 1 || its[0].Title != x.Title {
			t.Errorf("timeline: %+v", its)
		}
	}
}

// A tombstone carried once is not carried again: a Joomla page that still lists an
// item retention removed under its earlier ID asks on every poll, and each ask was a
// write (a commit the refresh waited for) that changed nothing.
func TestCarryTombstonesWritesOnlyWhatIsMissing(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if _, err := s.Upsert(ctx, []news.Item{storetest.Item("gs", 1), storetest.Item("gs", 2)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Trim(ctx, storetest.Item("gs", 1).Source, 1, 0, time.Now()); err != nil || n != 1 {
		t.Fatalf("trim: %d, %v", n, err)
	}
	txid := func() int {
		tx, err := s.db.Begin(false)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		return tx.ID()
	}
	ids := map[string]string{"gs-001": "gs-901"}
	if found, err := s.CarryTombstones(ctx, ids); err != nil || len(found) != 1 {
		t.Fatalf("first carry: %v, %v", found, err)
	}
	before := txid()
	if found, err := s.CarryTombstones(ctx, ids); err != nil || len(found) != 1 {
		t.Fatalf("second carry: %v, %v; want gs-001 found again", found, err)
	}
	if after := txid(); after != before {
		t.Errorf("a carry with nothing to carry committed %d write(s)", after-before)
	}
}
