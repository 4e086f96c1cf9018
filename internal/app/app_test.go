package app

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iss-network/networkfeed/internal/demo"
)

// TestOpenStoreRedisSchemes: every scheme the Redis store reads opens Redis (here a
// closed port, so an error naming Redis), never an embedded store at a path that looks
// like the URL.
func TestOpenStoreRedisSchemes(t *testing.T) {
	for _, dsn := range []string{
		"redis://127.0.0.1:1/0",
		"rediss://127.0.0.1:1/0",
		"redis+sentinel://127.0.0.1:1/mymaster",
		"rediss+sentinel://127.0.0.1:1/mymaster",
		"redis+cluster://127.0.0.1:1",
		"rediss+cluster://127.0.0.1:1",
	} {
		t.Run(dsn, func(t *testing.T) {
			t.Chdir(t.TempDir())
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second) // sentinel clients retry long
			defer cancel()
			st, err := openStore(ctx, dsn)
			if err == nil {
				st.Close()
				t.Fatal("opened a store")
			}
			if !strings.Contains(err.Error(), "redis") {
				t.Errorf("error %q does not come from the Redis store", err)
			}
			if entries, _ := os.ReadDir("."); len(entries) > 0 {
				t.Errorf("created %s in the working directory", entries[0].Name())
			}
		})
	}
}

// TestCommandsRefuseArguments: a command that takes no arguments refuses one, before it
// opens anything, instead of running on its defaults (`check other.yaml` said
// "feeds.yaml: ok" about the file next to it).
func TestCommandsRefuseArguments(t *testing.T) {
	for _, args := range [][]string{
		{"check", "other.yaml"},
		{"poll", "other.yaml", "-workers", "4"},
		{"serve", "other.yaml"},
		{"build", "-out", "site", "other.yaml"},
		{"demo", "other.yaml"},
	} {
		t.Run(args[0], func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if err := os.WriteFile("feeds.yaml", []byte("members:\n  - id: a\n    name: A\n    homepage: https://a.example.org/\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr strings.Builder
			code := Run(append([]string{"networkfeed"}, args...), func(string) string { return "" }, &stdout, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), `unexpected argument "other.yaml"`) {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
			}
			if entries, _ := os.ReadDir("."); len(entries) != 1 {
				t.Errorf("%d files in the working directory: it opened a store or wrote a site", len(entries))
			}
		})
	}
}

// TestBadFlagSaidOnce: a flag a command does not know, or a bad value, is said once with
// the command's usage, and the exit code is 2 (the flag package printed the error and
// the usage, then Run printed the error again and exited 1). The usage is networkfeed's,
// not the flag package's "Usage of serve:".
func TestBadFlagSaidOnce(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "-nosuchflag"}, "flag provided but not defined: -nosuchflag"},
		{[]string{"poll", "-workers", "many"}, `invalid value "many" for flag -workers`},
		{[]string{"check", "-workers", "4"}, "flag provided but not defined: -workers"},
		{[]string{"preview", "-lnag", "fr", "https://a.example.org/"}, "flag provided but not defined: -lnag"},
		{[]string{"build", "-out"}, "flag needs an argument: -out"},
		{[]string{"demo", "-x"}, "flag provided but not defined: -x"},
		{[]string{"import-opml", "-dryrun", "list.opml"}, "flag provided but not defined: -dryrun"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr strings.Builder
			code := Run(append([]string{"networkfeed"}, tc.args...), func(string) string { return "" }, &stdout, &stderr)
			if code != 2 || strings.Count(stderr.String(), tc.says) != 1 || !strings.HasPrefix(stderr.String(), "networkfeed "+tc.args[0]+": ") ||
				!strings.Contains(stderr.String(), "\nusage: networkfeed "+tc.args[0]+" [flags]") {
				t.Errorf("exit %d, stderr %q", code, stderr.String())
			}
		})
	}
}

// TestUsageMistakes: a command line a command cannot run (an unexpected, missing or extra
// argument, an unknown command, none) is said once, with the usage, and exits 2, as a bad
// flag does; a failure of the command itself exits 1, without the usage. They exited 1
// with the message alone, as if the command had run and failed.
func TestUsageMistakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		says string
		code int
	}{
		{"poll argument", []string{"poll", "x"}, `networkfeed poll: unexpected argument "x"`, 2},
		{"build without -out", []string{"build"}, "networkfeed build: needs -out DIR", 2},
		{"preview without URL", []string{"preview"}, "networkfeed preview: needs one URL, got 0", 2},
		{"preview two URLs", []string{"preview", "https://a.example.org/", "https://b.example.org/"}, "networkfeed preview: needs one URL, got 2", 2},
		{"preview unknown zone", []string{"preview", "-timezone", "Mars/Olympus", "https://a.example.org/"}, `networkfeed preview: -timezone: unknown time zone "Mars/Olympus"`, 2},
		{"preview bad selectors", []string{"preview", "-select", "itme: article", "https://a.example.org/"}, "networkfeed preview: -select: ", 2},
		{"import-opml without file", []string{"import-opml"}, "networkfeed import-opml: needs one OPML file", 2},
		{"unknown command", []string{"nosuch"}, `networkfeed: unknown command "nosuch"`, 2},
		{"no command", []string{}, "networkfeed: no command given", 2},
		{"help for no command", []string{"help", "nosuch"}, `networkfeed help: unknown command "nosuch"`, 2},
		{"check without config", []string{"check"}, "networkfeed check: read config: ", 1},
		{"import-opml missing file", []string{"import-opml", "list.opml"}, "networkfeed import-opml: import opml: open list.opml", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr strings.Builder
			code := Run(append([]string{"networkfeed"}, tc.args...), func(string) string { return "" }, &stdout, &stderr)
			if code != tc.code || !strings.HasPrefix(stderr.String(), tc.says) || strings.Count(stderr.String(), tc.says) != 1 {
				t.Errorf("exit %d, stderr %q: want exit %d, starting %q", code, stderr.String(), tc.code, tc.says)
			}
			usage := "\nusage: networkfeed "
			if len(tc.args) > 0 && command(tc.args[0]) != nil {
				usage += tc.args[0] + " " // the command's own
			} else {
				usage = "\nUsage:\n  networkfeed serve" // networkfeed's
			}
			if said := strings.Contains(stderr.String(), usage); said != (tc.code == 2) {
				t.Errorf("usage %q said: %v, want %v:\n%s", usage, said, tc.code == 2, stderr.String())
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
}

// TestHelp: -h, -help and `networkfeed help COMMAND` print the command's usage (its
// command line, what it does, its flags) on stdout and exit 0, as Go's flag convention
// has it, every command alike; they printed the flag package's "Usage of serve:" and
// exited 2, as for a mistake.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "-help"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Chdir(t.TempDir())
				var stdout, stderr strings.Builder
				code := Run(append([]string{"networkfeed"}, args...), func(string) string { return "" }, &stdout, &stderr)
				want := "usage: networkfeed " + c.name + " " + c.args + "\n\n" + c.about + "\n\nFlags:\n"
				if code != 0 || !strings.HasPrefix(stdout.String(), want) || stderr.Len() > 0 {
					t.Errorf("exit %d, stdout %q, stderr %q: want exit 0, stdout starting %q", code, stdout.String(), stderr.String(), want)
				}
				if !strings.Contains(stdout.String(), "\n  -") {
					t.Errorf("no flags listed:\n%s", stdout.String())
				}
			})
		}
	}
	for _, arg := range []string{"help", "-h", "-help", "--help"} {
		var stdout, stderr strings.Builder
		if code := Run([]string{"networkfeed", arg}, func(string) string { return "" }, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "\n  networkfeed help ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, stdout.String(), stderr.String())
		}
		// Each command's arguments and description start in the same columns (import-opml's
		// arguments did not).
		argCol, aboutCol := -1, -1
		for _, c := range append(slices.Clone(commands), struct{ name, args, about string }{"help", helpArgs, helpAbout}) {
			for line := range strings.Lines(stdout.String()) {
				if !strings.HasPrefix(line, "  networkfeed "+c.name+" ") {
					continue
				}
				a, d := strings.Index(line, c.args), strings.Index(line, c.about)
				if argCol < 0 {
					argCol, aboutCol = a, d
				} else if a != argCol || d != aboutCol {
					t.Errorf("%s: %s's arguments and description start at columns %d and %d, the first command's at %d and %d:\n%s", arg, c.name, a, d, argCol, aboutCol, stdout.String())
				}
			}
		}
	}
}

// TestHelpHelp: `networkfeed help help` (and `help -h`) prints help's own usage and
// exits 0, as for every command the usage lists; it said unknown command "help" and
// exited 2.
func TestHelpHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "-help", "--help"} {
		var stdout, stderr strings.Builder
		code := Run([]string{"networkfeed", "help", arg}, func(string) string { return "" }, &stdout, &stderr)
		want := "usage: networkfeed help COMMAND\n\n"
		if code != 0 || !strings.HasPrefix(stdout.String(), want) || stderr.Len() > 0 {
			t.Errorf("help %s: exit %d, stdout %q, stderr %q: want exit 0, stdout starting %q", arg, code, stdout.String(), stderr.String(), want)
		}
	}
	var stdout, stderr strings.Builder
	if code := Run([]string{"networkfeed", "help", "nope"}, func(string) string { return "" }, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `unknown command "nope"`) {
		t.Errorf("help nope: exit %d, stderr %q: want exit 2, unknown command", code, stderr.String())
	}
}

// TestPreviewRefusesUnknownTimezone: -timezone is checked as feeds.yaml's timezone: is;
// an unknown zone was taken silently, and the page's local times read in another.
func TestPreviewRefusesUnknownTimezone(t *testing.T) {
	var stdout, stderr strings.Builder
	code := Run([]string{"networkfeed", "preview", "-allow-private", "-timezone", "Mars/Olympus", "http://127.0.0.1:1/news"}, func(string) string { return "" }, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), `unknown time zone "Mars/Olympus"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestPreviewSaysWhatToTry: a new operator previewing a local page got "refused to connect
// to the private or local address 127.0.0.1" with no word of -allow-private; and previewing
// a French page with -lang left at en listed every item "(undated)" (its "28 octobre 2026"
// is read in French only), as if the page had no dates.
func TestPreviewSaysWhatToTry(t *testing.T) {
	n, err := demo.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	page := n.URL + "/ch/actualites/"
	env := func(string) string { return "" }

	var stdout, stderr strings.Builder
	if code := Run([]string{"networkfeed", "preview", page}, env, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "-allow-private") {
		t.Errorf("loopback page without -allow-private: exit %d, stderr %q: want exit 1 naming -allow-private", code, stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	if code := Run([]string{"networkfeed", "preview", "-allow-private", page}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "(undated)") || !strings.Contains(stdout.String(), "try -lang fr,en") {
		t.Errorf("French page previewed with -lang en: no advice to try -lang fr:\n%s", stdout.String())
	}

	stdout.Reset()
	if code := Run([]string{"networkfeed", "preview", "-allow-private", "-lang", "fr", page}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if out := stdout.String(); strings.Contains(out, "(undated)") || strings.Contains(out, "try -lang") {
		t.Errorf("French page previewed with -lang fr:\n%s", out)
	}
}
