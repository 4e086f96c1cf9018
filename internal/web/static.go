package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// staticFiles serves web/static at content-hashed URLs (/static/style.3f2a9c1b.css), so
// they can be cached forever; the plain name works too, with a short cache life.
type staticFiles struct {
	files  map[string][]byte // plain name -> bytes
	hashed map[string]string // hashed name -> plain name
	urls   map[string]string // plain name -> /static/hashed name
}

func newStatic(fsys fs.FS) (*staticFiles, error) {
	s := &staticFiles{files: map[string][]byte{}, hashed: map[string]string{}, urls: map[string]string{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		h := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:4]) + ext
		s.files[name] = b
		s.hashed[h] = name
		s.urls[name] = "/static/" + h
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	return s, nil
}

// URL returns the content-hashed URL of a static file.
func (s *staticFiles) URL(name string) string {
	if u, ok := s.urls[name]; ok {
		return u
	}
	return "/static/" + name
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	cache := "public, max-age=300"
	if plain, ok := s.hashed[name]; ok {
		name = plain
		cache = "public, max-age=31536000, immutable"
	}
	b, ok := s.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", cache)
	w.Write(b)
}
