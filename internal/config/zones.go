package config

import (
	"sync"
	"time"
)

// countryZones gives the time zone that decides local page times for a member's country
// when its source sets no timezone: the capital's zone for countries spanning several.
var countryZones = map[string]string{
	"AU": "Australia/Sydney", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CA": "America/Toronto",
	"CH": "Europe/Zurich", "DE": "Europe/Berlin", "GR": "Europe/Athens", "HK": "Asia/Hong_Kong",
	"JP": "Asia/Tokyo", "NL": "Europe/Amsterdam", "PH": "Asia/Manila", "RO": "Europe/Bucharest",
	"GB": "Europe/London", "UK": "Europe/London", "US": "America/New_York", "VE": "America/Caracas",
	"IL": "Asia/Jerusalem", "NZ": "Pacific/Auckland", "PT": "Europe/Lisbon", "ZA": "Africa/Johannesburg",
	"FR": "Europe/Paris", "ES": "Europe/Madrid", "IT": "Europe/Rome", "PL": "Europe/Warsaw",
	"CN": "Asia/Shanghai", "KR": "Asia/Seoul", "BR": "America/Sao_Paulo", "MX": "America/Mexico_City",
	"AR": "America/Argentina/Buenos_Aires", "IN": "Asia/Kolkata", "KE": "Africa/Nairobi",
}

// Location is the time zone of one of the member's sources: the source's `timezone`, else
// its country's zone, else UTC. Local times on its pages are read in it, and the web view
// shows its items' days in it, so that a day is the one the member's own site shows.
func (m Member) Location(s Source) *time.Location {
	if s.Timezone != "" {
		if loc := loadZone(s.Timezone); loc != nil {
			return loc
		}
	}
	if name, ok := countryZones[m.Country]; ok {
		if loc := loadZone(name); loc != nil {
			return loc
		}
	}
	return time.UTC
}

// zones caches loaded zones by name (time.LoadLocation reads the zone file every time,
// and a page shows dozens of items).
var zones sync.Map

func loadZone(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	zones.Store(name, loc)
	return loc
}
