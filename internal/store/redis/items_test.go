package redisstore

import "testing"

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Family Reunion", "family reunion"},
		{"Réunion FAMILIALE à Genève", "reunion familiale a geneve"},
		{"Ärzte über Grenzen", "arzte uber grenzen"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := fold(tc.in); got != tc.want {
				t.Errorf("fold(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
