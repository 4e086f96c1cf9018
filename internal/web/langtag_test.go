package web

import (
	"slices"
	"strings"
	"testing"
)

// TestLangFilterOfRegionalTags: members list languages with a script or region
// ("zh-Hant" for Hong Kong in the shipped feeds.yaml, "en-GB" as the README shows), but
// items are stored under their base language ("zh", "en"). The river offered
// "Traditional Chinese" as lang=zh-Hant and answered 400 "unknown language", and lang=zh,
// the items' own tag, was refused too.
func TestLangFilterOfRegionalTags(t *testing.T) {
	items := filterItems()
	items = append(items, mk("i13", "jp", "zh", 13, "國際社會服務社消息"))
	f := newFeedFixture(t, items, "languages: [ja]", "languages: [zh-Hant, ja]", "languages: [en]", "languages: [en-GB]")
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"lang=zh-Hant", []string{"i13"}},
		{"lang=zh", []string{"i13"}},
		{"lang=ZH-hant", []string{"i13"}},
		{"lang=en-GB&member=au", []string{"i09", "i01"}},
	} {
		res, body := f.get(t, "/feed.json?"+c.query)
		if res.StatusCode != 200 {
			t.Errorf("%s: HTTP %d: %s", c.query, res.StatusCode, body)
			continue
		}
		if got := parseFeed(t, "json", body).IDs; !slices.Equal(got, c.want) {
			t.Errorf("%s: items %v, want %v", c.query, got, c.want)
		}
	}
	if res, body := f.get(t, "/feed.json?lang=pt"); res.StatusCode != 400 || !strings.Contains(string(body), `unknown language "pt"`) {
		t.Errorf("lang=pt: HTTP %d %s, want 400 unknown language", res.StatusCode, body)
	}
	// The river's language options are values the filter takes, each once.
	_, page := f.get(t, "/")
	for _, want := range []string{`value="zh"`, `value="en"`} {
		if n := strings.Count(string(page), want); n != 1 {
			t.Errorf("river: %d options %s, want 1", n, want)
		}
	}
	for _, bad := range []string{`value="zh-Hant"`, `value="en-GB"`} {
		if strings.Contains(string(page), bad) {
			t.Errorf("river offers %s, which the filter does not store items under", bad)
		}
	}
	if res, _ := f.get(t, "/?lang=zh"); res.StatusCode != 200 {
		t.Errorf("river ?lang=zh: HTTP %d", res.StatusCode)
	}
	_, share := f.get(t, "/share")
	if strings.Contains(string(share), `value="zh-Hant"`) || !strings.Contains(string(share), `value="zh"`) {
		t.Error("share page language options: want zh, not zh-Hant")
	}
}
