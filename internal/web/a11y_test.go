package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeScript is axe-core, installed from testdata/package-lock.json by `make node-deps`
// (npm ci --prefix internal/web/testdata); nothing is fetched by the test.
var axeScript = filepath.Join("testdata", "node_modules", "axe-core", "axe.min.js")

// axeRun runs axe-core on the document with the WCAG 2.2 A/AA rules and best practices
// (or only the WCAG rules for a fragment meant for an iframe) and returns its violations
// as "rule (impact): help: target: failure" lines.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(r =>
  r.violations.flatMap(v => v.nodes.map(n => v.id + " (" + v.impact + "): " + v.help + ": " + n.target.join(" ") + ": " +
    (n.failureSummary || "").replace(/\s+/g, " "))))`

var (
	wcagTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}
	allTags  = append([]string{"best-practice"}, wcagTags...)
)

// TestAccessibility renders every page, with hostile and multilingual member content
// polled through the real pipeline, in Chromium at desktop and phone widths and in the
// light and dark schemes, and fails on any axe-core violation. It skips when Chromium or
// axe-core is missing (unless CI=true).
func TestAccessibility(t *testing.T) {
	axe, err := os.ReadFile(axeScript)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is required in CI (make node-deps): %v", err)
		}
		t.Skipf("no axe-core (make node-deps): %v", err)
	}
	ctx, cl := browser(t)
	srv, _ := pipeline(t, xssVectors(t))
	// The pages' CSP refuses every script, axe-core's too: let it in for this test.
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	pages := []string{
		"/", "/?hl=fr", "/?hl=es", "/?member=iss-friends", "/?member=iss-xss-feed&limit=100", "/?member=iss-xss-page&limit=100",
		"/?q=nothing-matches-this", "/?limit=2", "/sources", "/sources?problems=1&hl=fr", "/sources?sort=-last_poll&hl=es",
		"/members/iss-friends", "/members/iss-down", "/members/iss-xss-page?hl=fr", "/share", "/share?member=iss-friends&hl=es",
	}
	fragments := []string{"/embed", "/embed?member=iss-friends", "/embed?member=iss-down"}
	type view struct {
		name   string
		width  int64
		dark   bool
		subset bool // only the first pages
	}
	for _, v := range []view{{"desktop", 1280, false, false}, {"phone", 360, false, true}, {"dark", 1280, true, true}} {
		scheme := "light"
		if v.dark {
			scheme = "dark"
		}
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(v.width, 900)); err != nil {
			t.Fatal(err)
		}
		list := append(append([]string{}, pages...), fragments...)
		if v.subset {
			list = []string{"/", "/?member=iss-friends", "/sources", "/members/iss-down", "/share", "/embed?member=iss-friends"}
		}
		for _, p := range list {
			t.Run(v.name+" "+p, func(t *testing.T) {
				tags := allTags
				if strings.HasPrefix(p, "/embed") {
					tags = wcagTags // a list for others' pages: their page has the landmarks and the h1
				}
				found, err := axeCheck(ctx, string(axe), srv.URL+p, tags)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range found {
					t.Errorf("%s", f)
				}
				cl.take()
			})
		}
	}
}

// axeCheck loads u and returns axe-core's violations on it.
func axeCheck(ctx context.Context, axe, u string, tags []string) ([]string, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		return nil, err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		return nil, fmt.Errorf("load axe-core: %w", err)
	}
	tj, _ := json.Marshal(tags)
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(axeRun, tj), chromedp.EvalAwaitPromise))
}
