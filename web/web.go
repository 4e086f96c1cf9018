// Package web embeds networkfeed's templates and static files. Build with -tags debug
// to read them from disk instead, for live editing.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates static
var embedded embed.FS

// FS returns the templates/ and static/ trees.
func FS() fs.FS { return files }
