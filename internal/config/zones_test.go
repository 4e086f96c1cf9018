package config

import "testing"

func TestMemberLocation(t *testing.T) {
	for _, c := range []struct {
		name string
		m    Member
		s    Source
		want string
	}{
		{"the source's timezone first", Member{Country: "AU"}, Source{Timezone: "Australia/Perth"}, "Australia/Perth"},
		{"else the country's", Member{Country: "CH"}, Source{}, "Europe/Zurich"},
		{"else UTC", Member{Country: "LB"}, Source{}, "UTC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.m.Location(c.s).String(); got != c.want {
				t.Errorf("Location = %s, want %s", got, c.want)
			}
		})
	}
}
