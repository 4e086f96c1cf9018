package timezone

import "testing"

// A word is a time zone when the whole of it names one: upstream matched any word
// holding a zone's name, and "Zurich" after a date was the zone Z (the search of
// "16 March 2018 Zurich" found no date).
func TestWordIsTz(t *testing.T) {
	for word, want := range map[string]bool{
		"CET": true, "CET,": true, "(GMT)": true, "Z": true, "EST": true, "UTC+01:00": true,
		"Zurich": false, "Zürich": false, "Zaragoza": false, "Zugriffe": false, "ZURICH": false, "BESTE": false, "est": false,
	} {
		if got := WordIsTz(word); got != want {
			t.Errorf("WordIsTz(%q) = %v, want %v", word, got, want)
		}
	}
}
