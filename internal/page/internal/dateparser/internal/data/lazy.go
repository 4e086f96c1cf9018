// Not generated: networkfeed's change to the vendored go-dateparser.

package data

import "sync"

// loadOnce guards each locale file's loader. Upstream builds every locale (hundreds of compiled
// regexps, ~95 MB of allocations and ~30 MB kept live) in package init; here a locale file is built
// the first time GetLocaleData returns one of its locales.
var loadOnce [205]sync.Once
