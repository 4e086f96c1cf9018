package poll

import "time"

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

func countryZone(country string) *time.Location {
	name, ok := countryZones[country]
	if !ok {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}
