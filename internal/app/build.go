package app

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// builtList names the file in build's output directory that lists the files the last
// build wrote, one slash-separated path a line, each followed by a tab and the SHA-256 of
// what was written, so that the next build removes those it no longer writes (the pages
// and feeds of a member removed from feeds.yaml, a country or language no member has any
// more, static files under an older content hash) and no other file: an operator's
// CNAME, robots.txt or own pages are never listed, and a listed file the operator has
// since replaced by one of their own (a page saying where a removed member went) is no
// longer the build's. A directory without the list (built before build kept one, or
// never) has nothing removed from it; a line without a hash (written before build kept
// them) names a file removed whatever it holds.
const builtList = ".networkfeed-build"

// readBuilt reads the list of files the last build into out wrote, each with the
// SHA-256 it was written with (hex; "" when the line has none); nil when there is none.
// A line that is not a plain path inside out (absolute, with "..", the list itself) is
// ignored: the list is a file in a published directory, which anyone with write access
// to it may have edited.
func readBuilt(out string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(out, builtList))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the list of built files: %w", err)
	}
	files := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		p, sum, _ := strings.Cut(sc.Text(), "\t")
		if p == "" || strings.HasPrefix(p, "#") || p != path.Clean(p) || strings.Contains(p, `\`) ||
			!filepath.IsLocal(filepath.FromSlash(p)) || p == builtList {
			continue
		}
		files[p] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the list of built files: %w", err)
	}
	return files, nil
}

// saveBuilt replaces the list of built files in out by files (each with its SHA-256,
// see builtList). It is synced to disk, unlike the files it lists (see writeFile): it
// decides what the next build removes.
func saveBuilt(out string, files map[string]string) error {
	var b bytes.Buffer
	b.WriteString("# Files written by networkfeed build, which the next build removes when it no longer writes them (unless changed since).\n")
	for _, p := range slices.Sorted(maps.Keys(files)) {
		b.WriteString(p)
		if sum := files[p]; sum != "" {
			b.WriteString("\t" + sum)
		}
		b.WriteString("\n")
	}
	return replaceFile(filepath.Join(out, builtList), b.Bytes(), 0o644, true)
}

// removeStale removes from out the files of prev, the last build's, that written, this
// build's, lacks, and then the directories they leave empty; then it lists written as
// the files built. Before that it removes the temporary files that a build killed while
// writing one of them left beside it (".feed.atom.123.tmp"), when older than started,
// when this build started (a newer one is another build's, writing). Only regular files
// are removed, reached through directories of out (not symbolic links: a link to a
// directory elsewhere is not the build's to clean), and only while they hold what the
// build wrote: one replaced since is left, and leaves the list. A file that cannot be
// removed stays listed, for the next build to try again.
func removeStale(out string, prev, written map[string]string, started time.Time) error {
	root, err := os.OpenRoot(out)
	if err != nil {
		return fmt.Errorf("remove stale files: %w", err)
	}
	defer root.Close()
	var errs []error
	remove := func(p string) bool {
		err := root.Remove(filepath.FromSlash(p))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove stale %s: %w", filepath.Join(out, p), err))
			return false
		}
		return true
	}
	built := maps.Clone(written)
	maps.Copy(built, prev)
	built[builtList] = ""
	dirs := map[string]bool{}
	for p := range built {
		dirs[path.Dir(p)] = true
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		for _, p := range leftTemps(root, d, built, started) {
			remove(p)
		}
	}

	list := maps.Clone(written)
	var stale []string
	for p := range prev {
		if !listed(written, p) {
			stale = append(stale, p)
		}
	}
	slices.Sort(stale)
	for _, p := range stale {
		if !plainFile(root, p) || !unchanged(root, p, prev[p]) {
			continue
		}
		if !remove(p) {
			list[p] = prev[p]
			continue
		}
		// Directories emptied by the removal go too; Remove keeps one that is not empty.
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if root.Remove(filepath.FromSlash(d)) != nil {
				break
			}
		}
	}
	if err := saveBuilt(out, list); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// leftTemps lists the temporary files in dir of root that replaceFile made for a file of
// built and that were last written before started.
func leftTemps(root *os.Root, dir string, built map[string]string, started time.Time) []string {
	if dir != "." && !plainDir(root, dir) {
		return nil
	}
	f, err := root.Open(filepath.FromSlash(dir))
	if err != nil {
		return nil
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), ".")
		if name, ok = strings.CutSuffix(name, ".tmp"); !ok || !e.Type().IsRegular() {
			continue
		}
		i := strings.LastIndexByte(name, '.')
		if i < 0 || strings.Trim(name[i+1:], "0123456789") != "" || !listed(built, path.Join(dir, name[:i])) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(started) {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	return out
}

// listed reports whether files names p.
func listed(files map[string]string, p string) bool {
	_, ok := files[p]
	return ok
}

// fileSum is the SHA-256 of b in hex, as the list of built files has it.
func fileSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// unchanged reports whether the file p of root still holds what was written with
// SHA-256 sum; true when sum is "" (listed without one).
func unchanged(root *os.Root, p, sum string) bool {
	if sum == "" {
		return true
	}
	f, err := root.Open(filepath.FromSlash(p))
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == sum
}

// plainDir reports whether p is a directory of root reached through directories only.
func plainDir(root *os.Root, p string) bool {
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		fi, err := root.Lstat(filepath.Join(parts[:i]...))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// plainFile reports whether p is a regular file of root reached through directories only.
func plainFile(root *os.Root, p string) bool {
	if d := path.Dir(p); d != "." && !plainDir(root, d) {
		return false
	}
	fi, err := root.Lstat(filepath.FromSlash(p))
	return err == nil && fi.Mode().IsRegular()
}
