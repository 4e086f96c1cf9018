package bolt

import (
	"path/filepath"
	"testing"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "nf.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsItems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nf.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upsert(t.Context(), []news.Item{storetest.Item("gs", 1), storetest.Item("gs", 2)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Upsert(t.Context(), []news.Item{storetest.Item("gs", 1), storetest.Item("gs", 2), storetest.Item("gs", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if r.New != 1 || r.Unchanged != 2 {
		t.Errorf("after reopen: %+v, want 1 new 2 unchanged", r)
	}
}
