//go:build debug

package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// With -tags debug, templates and static files are read from the source tree on every use.
var files fs.FS = func() fs.FS {
	_, file, _, _ := runtime.Caller(0)
	return os.DirFS(filepath.Dir(file))
}()
