package data

import "testing"

// TestLocalesLoadLazily checks networkfeed's change to the vendored library: a locale's data is built
// when GetLocaleData first returns it, and only its own file's locales are built with it.
func TestLocalesLoadLazily(t *testing.T) {
	// The first run sees the process as it started; later ones (-count) find fr built by it.
	first := !lazyTestRan
	lazyTestRan = true
	if first && (fr_Locale.Name != "" || fr_CA_Locale.Name != "") {
		t.Fatalf("fr built before use: %q %q", fr_Locale.Name, fr_CA_Locale.Name)
	}
	ld, ok := GetLocaleData("fr-CA")
	if !ok || ld.Name != "fr-CA" || len(ld.Translations) == 0 || ld.RxCombined == nil {
		t.Fatalf("GetLocaleData(fr-CA) = %+v, %v", ld, ok)
	}
	if fr_Locale.Name != "fr" {
		t.Errorf("fr not built with fr-CA: %q", fr_Locale.Name)
	}
	if de_Locale.Name != "" || es_Locale.Name != "" {
		t.Errorf("de or es built though unused: %q %q", de_Locale.Name, es_Locale.Name)
	}
	if _, ok := GetLocaleData("xx"); ok {
		t.Error("unknown locale xx found")
	}
}

// lazyTestRan is set by TestLocalesLoadLazily's first run.
var lazyTestRan bool
