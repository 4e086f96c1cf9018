package web

import (
	"net/http"
	"testing"
)

// TestCORS: the feeds, the data and the embedded list can be read by a member's own
// pages' scripts (fetch() from another origin), their errors too, and a preflight is
// answered; the HTML pages stay same-origin.
func TestCORS(t *testing.T) {
	f := newFeedFixture(t, filterItems())
	public := []string{
		"/feed.json", "/feed.atom", "/feed.rss", "/feed.json?member=fr&lang=fr",
		"/members/fr/feed.json", "/members/fr/feed.atom", "/members/fr/feed.rss",
		"/sources.json", "/sources.csv", "/sources/alerts.atom", "/opml",
		"/embed?member=fr&hl=fr", "/embed.js",
		"/feed.json?member=nope", // an error a script should be able to read
	}
	for _, p := range public {
		t.Run("GET "+p, func(t *testing.T) {
			res, body := f.get(t, p, "Origin", "https://member.example")
			if res.StatusCode != 200 && res.StatusCode != 400 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", got)
			}
			if got := res.Header.Get("Access-Control-Expose-Headers"); got != "ETag, Retry-After" {
				t.Errorf("Access-Control-Expose-Headers %q", got)
			}
			if got := res.Header.Values("Vary"); len(got) > 1 || (len(got) == 1 && got[0] != "Accept-Encoding" && got[0] != "Accept-Encoding, Accept-Language") {
				t.Errorf("Vary %q: the same answer for every origin varies with none", got)
			}
		})
		t.Run("OPTIONS "+p, func(t *testing.T) {
			res := f.do(t, http.MethodOptions, p, "Origin", "https://member.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "if-none-match")
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("preflight: status %d, want 204", res.StatusCode)
			}
			for k, want := range map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Access-Control-Allow-Methods": "GET, HEAD",
				"Access-Control-Allow-Headers": "*",
				"Access-Control-Max-Age":       "86400",
				"Allow":                        "GET, HEAD, OPTIONS",
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
		})
	}
	for _, p := range []string{"/", "/?member=fr", "/members/fr", "/sources", "/share", "/healthz"} {
		t.Run("same-origin "+p, func(t *testing.T) {
			res, _ := f.get(t, p, "Origin", "https://member.example")
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("Access-Control-Allow-Origin %q on an HTML page", got)
			}
			res = f.do(t, http.MethodOptions, p, "Origin", "https://member.example", "Access-Control-Request-Method", "GET")
			if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("OPTIONS: status %d, Access-Control-Allow-Origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

// do sends a bodiless request with method and headers (pairs) and returns the response.
func (f *feedFixture) do(t *testing.T, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}
