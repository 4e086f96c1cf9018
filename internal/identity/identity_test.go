package identity

import (
	"regexp"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/iss-network/networkfeed/internal/news"
)

func TestKey(t *testing.T) {
	pub := time.Date(2024, 5, 12, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name   string
		it     news.Item
		stable bool
		want   string
	}{
		{"guid when stable", news.Item{GUID: " urn:iss:42 ", Link: "https://x.example/a"}, true, "guid:urn:iss:42"},
		{"link when unstable", news.Item{GUID: "urn:iss:42", Link: "http://www.x.example/a/?utm_source=rss"}, false, "url:https://x.example/a"},
		{"link when no guid", news.Item{Link: "https://x.example/a#c"}, true, "url:https://x.example/a"},
		{"hash when nothing else", news.Item{Title: "Annual report", Published: pub}, true, "hash:" + contentHash(news.Item{Title: "annual  REPORT", Published: pub})},
		{"hash when link unusable", news.Item{Title: "T", Link: "javascript:x"}, false, "hash:" + contentHash(news.Item{Title: "T"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(tt.it, tt.stable); got != tt.want {
				t.Errorf("Key = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContentHash(t *testing.T) {
	day := time.Date(2024, 5, 12, 0, 0, 0, 0, time.UTC)
	base := news.Item{Title: "Journée d'étude", Published: day, Precision: news.PrecisionDay}
	h := contentHash(base)
	if len(h) != 32 {
		t.Fatalf("hash %q is not 32 hex digits", h)
	}
	same := []news.Item{
		{Title: "  JOURNEE d'etude ", Published: day, Precision: news.PrecisionDay},
		{Title: "Journée d'étude", Published: day.Add(15 * time.Hour), Precision: news.PrecisionDay},
	}
	for _, it := range same {
		if got := contentHash(it); got != h {
			t.Errorf("contentHash(%+v) = %s, want %s", it, got, h)
		}
	}
	differ := []news.Item{
		{Title: "Journée d'étude", Published: day.AddDate(0, 0, 1), Precision: news.PrecisionDay},
		{Title: "Journée d'études", Published: day, Precision: news.PrecisionDay},
		{Title: "Journée d'étude", Published: day, Precision: news.PrecisionMonth},
	}
	for _, it := range differ {
		if got := contentHash(it); got == h {
			t.Errorf("contentHash(%+v) equals the base hash", it)
		}
	}
	// An undated item's Published is when it was first seen: it must not change the key.
	a := news.Item{Title: "x", Published: day, Precision: news.PrecisionNone}
	b := news.Item{Title: "x", Published: day.Add(48 * time.Hour), Precision: news.PrecisionNone}
	if contentHash(a) != contentHash(b) {
		t.Error("undated items hash differently by first-seen time")
	}
}

var idRe = regexp.MustCompile(`^nf-[a-z2-7]{20}$`)

func TestID(t *testing.T) {
	// IDs are public and permanent: this value must never change.
	const pinned = "nf-eaqdg7es7gaztnaxcel7"
	got := ID("iss-switzerland", "guid:urn:iss:42")
	if got != pinned {
		t.Errorf("ID changed: got %q, pinned %q", got, pinned)
	}
	if !idRe.MatchString(got) {
		t.Errorf("ID %q is not nf- + 20 lower-case base32 characters", got)
	}
	if ID("iss-switzerland", "guid:urn:iss:43") == got || ID("iss-france", "guid:urn:iss:42") == got {
		t.Error("different member or key gave the same ID")
	}
	// member+key boundaries cannot be shifted to forge a collision.
	if ID("a", "bc") == ID("ab", "c") {
		t.Error("ID ignores the boundary between member and key")
	}
}

func TestIDProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		member := rapid.String().Draw(t, "member")
		key := rapid.String().Draw(t, "key")
		a, b := ID(member, key), ID(member, key)
		if a != b {
			t.Fatalf("ID not deterministic: %q vs %q", a, b)
		}
		if !idRe.MatchString(a) {
			t.Fatalf("ID %q is not URL-safe in the documented form", a)
		}
	})
}

func TestStableGUIDs(t *testing.T) {
	tests := []struct {
		name  string
		guids []string
		want  bool
	}{
		{"unique", []string{"a", "b", "c"}, true},
		{"repeat", []string{"a", "b", "a"}, false},
		{"repeat after trim", []string{"a", " a"}, false},
		{"half empty", []string{"a", "", "b", ""}, true},
		{"mostly empty", []string{"a", "", ""}, false},
		{"all empty", []string{"", ""}, false},
		{"none", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StableGUIDs(tt.guids); got != tt.want {
				t.Errorf("StableGUIDs(%q) = %v, want %v", tt.guids, got, tt.want)
			}
		})
	}
}

func TestAssign(t *testing.T) {
	t.Run("duplicate guids fall back to guid and link", func(t *testing.T) {
		items := []news.Item{
			{GUID: "1", Link: "https://x.example/a", Title: "A"},
			{GUID: "2", Link: "https://x.example/b", Title: "B"},
			{GUID: "2", Link: "https://x.example/c?utm_source=rss", Title: "C"},
			{GUID: "2", Title: "D no link"},
		}
		got := Assign(items, "iss-x")
		wantKeys := []string{"guid:1", "guid:2 https://x.example/b", "guid:2 https://x.example/c",
			"guid:2 hash:" + contentHash(news.Item{Title: "D no link"})}
		if len(got) != len(wantKeys) {
			t.Fatalf("got %d items, want %d", len(got), len(wantKeys))
		}
		ids := map[string]bool{}
		for i, it := range got {
			if it.Key != wantKeys[i] {
				t.Errorf("item %d Key = %q, want %q", i, it.Key, wantKeys[i])
			}
			if it.ID != ID("iss-x", it.Key) || ids[it.ID] {
				t.Errorf("item %d ID %q wrong or repeated", i, it.ID)
			}
			ids[it.ID] = true
			if it.Member != "iss-x" {
				t.Errorf("item %d Member = %q", i, it.Member)
			}
		}
		if got[2].Canonical != "https://x.example/c" {
			t.Errorf("Canonical = %q", got[2].Canonical)
		}
	})
	t.Run("exact duplicates dropped", func(t *testing.T) {
		items := []news.Item{
			{GUID: "1", Link: "https://x.example/a", Title: "first"},
			{GUID: "1", Link: "https://x.example/a", Title: "second copy"},
			{GUID: "3", Link: "https://x.example/c"},
		}
		got := Assign(items, "m")
		if len(got) != 2 || got[0].Title != "first" || got[1].GUID != "3" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("mostly no guids keyed by link or hash", func(t *testing.T) {
		items := []news.Item{
			{Link: "https://www.x.example/a/"},
			{Link: "http://x.example/a"}, // same page
			{Title: "No link"},
			{GUID: "g", Link: "https://x.example/g"},
		}
		got := Assign(items, "m")
		if len(got) != 3 {
			t.Fatalf("got %d items, want 3: %+v", len(got), got)
		}
		want := []string{"url:https://x.example/a", "hash:" + contentHash(news.Item{Title: "No link"}), "url:https://x.example/g"}
		for i, it := range got {
			if it.Key != want[i] {
				t.Errorf("item %d Key = %q, want %q", i, it.Key, want[i])
			}
		}
	})
	t.Run("a link shared by different items keys them by link and title", func(t *testing.T) {
		dated := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
		items := []news.Item{
			{Link: "https://x.example/", Title: "Kafala mission", Published: dated, Precision: news.PrecisionDay},
			{Link: "https://x.example/", Title: "New board"},
			{Link: "https://x.example/", Title: "new  BOARD"},     // a repeat
			{Link: "https://x.example/", Title: "Kafala mission"}, // again, undated (a "latest news" box)
			{Link: "https://x.example/own", Title: "Own page"},
			{GUID: "g", Link: "https://x.example/", Title: "A GUID"}, // most items have none: keyed by link too
		}
		got := Assign(items, "m")
		want := []string{"url:https://x.example/ title:" + titleHash("Kafala mission"),
			"url:https://x.example/ title:" + titleHash("New board"),
			"url:https://x.example/own", "url:https://x.example/ title:" + titleHash("A GUID")}
		if len(got) != len(want) {
			t.Fatalf("got %d items, want %d: %+v", len(got), len(want), got)
		}
		for i, it := range got {
			if it.Key != want[i] {
				t.Errorf("item %d Key = %q, want %q", i, it.Key, want[i])
			}
		}
	})
	t.Run("stable across polls", func(t *testing.T) {
		poll := func() []news.Item {
			return []news.Item{{GUID: "1", Link: "https://x.example/a"}, {GUID: "2", Link: "https://x.example/b"}}
		}
		a, b := Assign(poll(), "m"), Assign(poll(), "m")
		for i := range a {
			if a[i].ID != b[i].ID || a[i].Key != b[i].Key {
				t.Errorf("item %d: %s/%s vs %s/%s", i, a[i].Key, a[i].ID, b[i].Key, b[i].ID)
			}
		}
	})
	t.Run("member kept when set", func(t *testing.T) {
		got := Assign([]news.Item{{GUID: "1", Member: "other"}}, "m")
		if got[0].Member != "other" || got[0].ID != ID("m", "guid:1") {
			t.Errorf("got %+v", got[0])
		}
	})
}
