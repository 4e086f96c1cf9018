package publish

import (
	"fmt"
	"io"
	"testing"
	"time"
)

// benchFeed is a feed of n items cycled from the fixture, each with its own ID.
func benchFeed(format string, n int) Feed {
	f := fixtureFeed(format, false)
	fixture := f.Items
	f.Items = nil
	for i := range n {
		it := fixture[i%len(fixture)]
		it.ID = fmt.Sprintf("%s%04d", it.ID[:22], i)
		it.Published = it.Published.Add(-time.Duration(i) * time.Hour)
		f.Items = append(f.Items, it)
	}
	return f
}

func benchmarkFormat(b *testing.B, format string) {
	f := benchFeed(format, 50)
	write := writers[format]
	b.ReportAllocs()
	for b.Loop() {
		if err := write(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRSS(b *testing.B)  { benchmarkFormat(b, FormatRSS) }
func BenchmarkAtom(b *testing.B) { benchmarkFormat(b, FormatAtom) }
func BenchmarkJSON(b *testing.B) { benchmarkFormat(b, FormatJSON) }
