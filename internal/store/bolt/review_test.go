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
