//go:build !debug

package web

import "io/fs"

var files fs.FS = embedded
