// Package page turns member HTML news pages (Joomla, WordPress, Drupal, custom CMS) into news items.
//
// A page source either names CSS selectors for its news list (Extract) or leaves the page to automatic
// detection (Detect), which tries schema.org JSON-LD and microdata, h-entry microformats, and then a
// structural heuristic that finds the repeated blocks carrying a title and a link. The package also finds
// a page's advertised feeds (DiscoverFeeds, CMSFeedCandidates), parses the dates found on pages in the
// member's languages (ParseDate), and reads article pages for the fields a list leaves out (Enrich).
package page

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
)

// ErrNoMatch reports that the item selector, or automatic detection, found no news list on the page:
// the selectors no longer match.
var ErrNoMatch = errors.New("selectors no longer match")

// MaxItems is how many of a page's news blocks, in document order, become items. Reading a
// block's date is the costly part of reading a page (the date parser tries the member's
// languages' formats), and a page of a few megabytes can repeat a block thousands of
// times: with no bound, one such page held a parsing slot for minutes. It matches the
// default retention (max_items_per_source), which keeps no more of a source anyway.
const MaxItems = 500

// Selectors are the CSS selectors (cascadia syntax) that pick a page's news items. Item is matched
// against the whole page; the others are matched inside each item and may be empty, in which case
// Extract falls back to what items usually hold (the first heading, its link, a <time>, ...).
type Selectors struct {
	Item    string `yaml:"item" json:"item"`
	Title   string `yaml:"title,omitempty" json:"title,omitempty"`
	Link    string `yaml:"link,omitempty" json:"link,omitempty"`
	Date    string `yaml:"date,omitempty" json:"date,omitempty"`
	Summary string `yaml:"summary,omitempty" json:"summary,omitempty"`
	Image   string `yaml:"image,omitempty" json:"image,omitempty"`
}

// Validate compiles every selector with cascadia. An empty Item, or a selector cascadia cannot compile
// (cascadia would otherwise silently match nothing), is an error naming the field.
func (s Selectors) Validate() error {
	if strings.TrimSpace(s.Item) == "" {
		return errors.New("validate selectors: item: empty selector")
	}
	for _, f := range s.fields() {
		if f.value == "" {
			continue
		}
		if _, err := cascadia.Compile(f.value); err != nil {
			return fmt.Errorf("validate selectors: %s: %q: %w", f.name, f.value, err)
		}
	}
	return nil
}

type selectorField struct{ name, value string }

func (s Selectors) fields() []selectorField {
	return []selectorField{
		{"item", s.Item}, {"title", s.Title}, {"link", s.Link},
		{"date", s.Date}, {"summary", s.Summary}, {"image", s.Image},
	}
}

// YAML renders the selectors as the flow mapping feeds.yaml takes, for example
// `select: {item: "div.item", title: "h2", link: "h2 a", date: "time", summary: "p"}`. Empty fields are left out.
func (s Selectors) YAML() string {
	var b strings.Builder
	b.WriteString("select: {")
	first := true
	for _, f := range s.fields() {
		if f.value == "" {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(f.name)
		b.WriteString(": ")
		b.WriteString(strconv.Quote(f.value))
	}
	b.WriteString("}")
	return b.String()
}

// Options carry what a member's pages need to be read correctly.
type Options struct {
	// Languages are the member's languages (BCP 47), e.g. ["fr", "en"]. They restrict date parsing and
	// language detection; the first is the fallback language of an item.
	Languages []string
	// Country is the member's country (ISO 3166-1 alpha-2, "" when unknown). With the first
	// language it names the locale whose order reads all-digit dates: "05/03/2024" is 5
	// March for an Australian or British member writing English (en-AU, en-GB) and 3 May
	// for an American one (en, en-US).
	Country string
	// Location is used for local times without a zone; nil means UTC.
	Location *time.Location
	// Now anchors relative dates ("2 days ago", "il y a 3 jours"); zero means the current time.
	Now time.Time
}

func (o Options) location() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now().In(o.location())
	}
	return o.Now
}
