package web

import (
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	assets "github.com/iss-network/networkfeed/web"
)

// TestContrast checks WCAG AA (4.5:1 for text) for every text colour of the stylesheet
// against the page and card backgrounds, in the light and the dark scheme.
func TestContrast(t *testing.T) {
	s, err := newStatic(assetsFS(t))
	if err != nil {
		t.Fatal(err)
	}
	css := string(s.files["style.css"])
	dark := strings.Index(css, "prefers-color-scheme: dark")
	if dark < 0 {
		t.Fatal("no dark scheme")
	}
	schemes := map[string]map[string]string{"light": cssVars(css[:dark]), "dark": cssVars(css[dark:])}
	for name, v := range schemes {
		for _, bg := range []string{"bg", "card"} {
			for _, fg := range []string{"fg", "muted", "link", "ok", "stale", "fail", "off"} {
				r := contrast(t, v[fg], v[bg])
				if r < 4.5 {
					t.Errorf("%s: --%s %s on --%s %s: %.2f:1, below 4.5:1", name, fg, v[fg], bg, v[bg], r)
				}
			}
		}
		if r := contrast(t, v["btn-fg"], v["link"]); r < 4.5 {
			t.Errorf("%s: button text on link colour: %.2f:1", name, r)
		}
	}
}

var varRE = regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})`)

func cssVars(css string) map[string]string {
	out := map[string]string{}
	for _, m := range varRE.FindAllStringSubmatch(css, -1) {
		if _, ok := out[m[1]]; !ok {
			out[m[1]] = m[2]
		}
	}
	return out
}

func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	la, lb := luminance(t, a), luminance(t, b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) != 7 {
		t.Fatalf("colour %q", hex)
	}
	var c [3]float64
	for i := range 3 {
		n, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		x := float64(n) / 255
		if x <= 0.03928 {
			c[i] = x / 12.92
		} else {
			c[i] = math.Pow((x+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func assetsFS(t *testing.T) fs.FS {
	t.Helper()
	return assets.FS()
}
