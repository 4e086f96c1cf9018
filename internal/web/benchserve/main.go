//go:build benchserve

// Command benchserve fills a bolt store with many items and serves it twice on loopback:
// networkfeed's web handler, and a minimal net/http server that answers every request
// with the bytes of /feed.atom from memory (the baseline). scripts/bench-serve.sh drives
// both with wrk.
//
//	go run -tags benchserve ./internal/web/benchserve -db /tmp/nf-bench-1m.db -n 1000000
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "net/http/pprof"

	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/news"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	"github.com/iss-network/networkfeed/internal/web"
)

// Members is the benchmark network: 20 members in four regions and six languages.
var regions = []string{"Europe", "Americas", "Asia-Pacific", "Africa"}

// countries are real ISO 3166-1 codes (the config validates them), one per member.
var countries = []string{"AU", "BE", "CA", "CH", "DE", "ES", "FR", "GB", "IT", "JP", "KE", "MX", "NL", "NZ", "PT", "SE", "SG", "US", "ZA", "BR"}
var langs = []string{"en", "fr", "es", "de", "ja", "ar"}

func configYAML() string {
	var b strings.Builder
	b.WriteString("network: {title: Bench Network, url: \"http://127.0.0.1:18081/\", language: en}\nmembers:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  - {id: m%02d, name: Member %02d, country: %s, region: %s, languages: [%s, %s], homepage: \"https://m%02d.example.org/\"}\n",
			i, i, countries[i], regions[i%4], langs[i%6], langs[(i+1)%6], i)
	}
	return b.String()
}

// item makes the i-th item: items are ten minutes apart, newest last; each member
// writes in its two languages.
func item(i int, start time.Time) news.Item {
	m := i % 20
	lang := langs[m%6]
	if i%3 == 0 {
		lang = langs[(m+1)%6]
	}
	t := start.Add(time.Duration(i) * 10 * time.Minute)
	id := fmt.Sprintf("it%08d", i)
	return news.Item{
		ID: id, Key: id, Member: fmt.Sprintf("m%02d", m), Country: countries[m], Region: regions[m%4],
		Source:     fmt.Sprintf("https://m%02d.example.org/feed", m),
		GUID:       fmt.Sprintf("https://m%02d.example.org/news/%d", m, i),
		Title:      fmt.Sprintf("News item %d from member %02d about children and families", i, m),
		Link:       fmt.Sprintf("https://m%02d.example.org/news/%d", m, i),
		Summary:    strings.Repeat("A summary sentence about cross-border social work and protection. ", 4),
		Content:    "<p>" + strings.Repeat("Content paragraph about international social service casework. ", 8) + "</p>",
		Categories: []string{"news", fmt.Sprintf("topic-%d", i%7)},
		Language:   lang,
		Published:  t, Updated: t, FirstSeen: t,
	}
}

func fill(ctx context.Context, st *boltstore.Store, n int, log *slog.Logger) error {
	v, err := st.Version(ctx)
	if err != nil {
		return err
	}
	const batch = 5000
	have := int(v) * batch // one version per batch
	if have >= n {
		log.Info("store already filled", "items", have)
		return nil
	}
	start := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	t0 := time.Now()
	items := make([]news.Item, 0, batch)
	for i := have; i < n; i += batch {
		items = items[:0]
		for j := i; j < min(i+batch, n); j++ {
			items = append(items, item(j, start))
		}
		if _, err := st.Upsert(ctx, items); err != nil {
			return err
		}
		if (i/batch)%20 == 0 {
			log.Info("filling", "items", i+len(items), "elapsed", time.Since(t0).Round(time.Second))
		}
	}
	log.Info("filled", "items", n, "elapsed", time.Since(t0).Round(time.Second))
	return nil
}

func main() {
	db := flag.String("db", "/tmp/nf-bench-1m.db", "bolt store file (filled when short of -n items, then reused)")
	n := flag.Int("n", 1_000_000, "items to store")
	addr := flag.String("addr", "127.0.0.1:18081", "networkfeed server address")
	baseAddr := flag.String("base-addr", "127.0.0.1:18082", "baseline server address")
	pprofAddr := flag.String("pprof", "127.0.0.1:18083", "pprof address (empty: off)")
	fillOnly := flag.Bool("fill-only", false, "fill the store and exit")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *db, *n, *addr, *baseAddr, *pprofAddr, *fillOnly); err != nil {
		log.Error("benchserve", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, db string, n int, addr, baseAddr, pprofAddr string, fillOnly bool) error {
	st, err := boltstore.Open(db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := fill(ctx, st, n, log); err != nil {
		return fmt.Errorf("fill store: %w", err)
	}
	if fillOnly {
		return nil
	}
	cfg, err := config.Parse("bench", []byte(strings.ReplaceAll(configYAML(), "127.0.0.1:18081", addr)))
	if err != nil {
		return err
	}
	ws, err := web.New(web.Options{Store: st, Config: func() *config.Config { return cfg }, Log: log})
	if err != nil {
		return err
	}
	h := ws.Handler()
	// The baseline serves the very bytes and headers of /feed.atom from memory.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/feed.atom", nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("render /feed.atom: HTTP %d", rec.Code)
	}
	body, hdr := bytes.Clone(rec.Body.Bytes()), rec.Header().Clone()
	base := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.Write(body)
	})
	if pprofAddr != "" {
		go http.ListenAndServe(pprofAddr, nil) // DefaultServeMux carries net/http/pprof
	}
	errc := make(chan error, 2)
	for _, s := range []struct {
		addr string
		h    http.Handler
	}{{addr, h}, {baseAddr, base}} {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- srv.Serve(ln) }()
		defer srv.Close()
	}
	log.Info("serving", "networkfeed", addr, "baseline", baseAddr, "atom_bytes", len(body), "etag", hdr.Get("ETag"))
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}
