package redisstore

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/iss-network/networkfeed/internal/news"
	"github.com/iss-network/networkfeed/internal/store/storetest"
)

func genTime(t *rapid.T, label string) time.Time {
	if rapid.Bool().Draw(t, label+"-zero") {
		return time.Time{}
	}
	tm := time.Unix(rapid.Int64Range(-1e11, 1e11).Draw(t, label+"-sec"), rapid.Int64Range(0, 1e9-1).Draw(t, label+"-ns"))
	if rapid.Bool().Draw(t, label+"-utc") {
		return tm.UTC()
	}
	return tm.In(time.FixedZone("", rapid.IntRange(-14*3600, 14*3600).Draw(t, label+"-off")))
}

func genStrs(t *rapid.T, label string) []string {
	if rapid.Bool().Draw(t, label+"-nil") {
		return nil
	}
	return rapid.SliceOfN(rapid.String(), 1, 5).Draw(t, label)
}

// sameItem compares items the way a reader sees them: times by instant and offset.
func sameItem(a, b news.Item) bool {
	for _, p := range [][2]*time.Time{{&a.Published, &b.Published}, {&a.Updated, &b.Updated}, {&a.FirstSeen, &b.FirstSeen}} {
		_, oa := p[0].Zone()
		_, ob := p[1].Zone()
		if !p[0].Equal(*p[1]) || oa != ob || p[0].IsZero() != p[1].IsZero() {
			return false
		}
		*p[0], *p[1] = time.Time{}, time.Time{}
	}
	return reflect.DeepEqual(a, b)
}

func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String()
		it := news.Item{ID: s.Draw(t, "id"), Key: s.Draw(t, "key"), Member: s.Draw(t, "member"),
			Country: s.Draw(t, "country"), Region: s.Draw(t, "region"), Source: s.Draw(t, "source"),
			GUID: s.Draw(t, "guid"), Title: s.Draw(t, "title"), Link: s.Draw(t, "link"),
			Canonical: s.Draw(t, "canonical"), Summary: s.Draw(t, "summary"), Content: s.Draw(t, "content"),
			Author: s.Draw(t, "author"), Image: s.Draw(t, "image"), Categories: genStrs(t, "cats"),
			Language: s.Draw(t, "lang"), Published: genTime(t, "pub"), Precision: news.Precision(s.Draw(t, "prec")),
			Updated: genTime(t, "upd"), FirstSeen: genTime(t, "seen"), ClusterID: s.Draw(t, "cluster"),
			AlsoBy: genStrs(t, "also")}
		for i := range rapid.IntRange(0, 2).Draw(t, "encl") {
			it.Enclosures = append(it.Enclosures, news.Enclosure{URL: s.Draw(t, fmt.Sprint("eurl", i)),
				Type: s.Draw(t, fmt.Sprint("etype", i)), Length: rapid.Int64Range(0, 1<<40).Draw(t, fmt.Sprint("elen", i))})
		}
		v, err := encodeItem(&it)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeItem(v)
		if err != nil {
			t.Fatal(err)
		}
		if !sameItem(it, got) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, it)
		}
		// Every strict prefix is rejected, never misread.
		cut := rapid.IntRange(0, len(v)-1).Draw(t, "cut")
		if _, err := decodeItem(v[:cut]); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded without error", cut, len(v))
		}
	})
}

func TestDecodeForms(t *testing.T) {
	it := storetest.Item("gs", 1)
	js, _ := json.Marshal(it)
	bin, _ := encodeItem(&it)
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"binary", bin, true},
		{"json", string(js), true},
		{"empty", "", false},
		{"unknown version", "\x07abc", false},
		{"trailing bytes", bin + "x", false},
		{"bad json", "{nope", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeItem(tc.value)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && !sameItem(got, it) {
				t.Errorf("decoded %+v, want %+v", got, it)
			}
		})
	}
	t.Logf("sizes: json %d bytes, binary %d bytes", len(js), len(bin))
}
