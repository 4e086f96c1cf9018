// Package app wires networkfeed's packages into its commands (serve, poll, check,
// preview, build, demo, import-opml, prune) and owns flags, signals and shutdown order.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/iss-network/networkfeed/internal/clean"
	"github.com/iss-network/networkfeed/internal/config"
	"github.com/iss-network/networkfeed/internal/fetch"
	"github.com/iss-network/networkfeed/internal/poll"
	"github.com/iss-network/networkfeed/internal/store"
	boltstore "github.com/iss-network/networkfeed/internal/store/bolt"
	redisstore "github.com/iss-network/networkfeed/internal/store/redis"
)

// commands are networkfeed's commands: their arguments after the flags and what they do,
// for the usage of networkfeed and of each command.
var commands = []struct{ name, args, about string }{
	{"serve", "[flags]", "poll on schedule and serve HTTP (-web=false: a pure worker)"},
	{"poll", "[flags]", "poll every source once, store, exit"},
	{"check", "[flags]", "validate the config"},
	{"preview", "[flags] URL", "show what a feed or page would yield, without storing"},
	{"build", "[flags] -out DIR", "write the feeds and web view as static files"},
	{"demo", "[flags]", "run an offline demo network on loopback and serve it"},
	{"import-opml", "[flags] FILE", "add an OPML list of feeds to feeds.yaml (comments kept)"},
	{"prune", "[flags]", "remove from the store the items of members removed from feeds.yaml"},
}

// helpArgs and helpAbout are the help command's line in usage; help is not in commands,
// having no flags of its own.
const (
	helpArgs  = "COMMAND"
	helpAbout = "show a command's usage and flags (also: networkfeed COMMAND -h)"
)

// usage is networkfeed's own usage, for `networkfeed help` and a command line without
// a command it knows.
var usage = func() string {
	var b strings.Builder
	b.WriteString("networkfeed gathers member news into one network feed and web view.\n\nUsage:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  networkfeed %s\t%s\t %s\n", c.name, c.args, c.about)
	}
	fmt.Fprintf(tw, "  networkfeed %s\t%s\t %s\n", "help", helpArgs, helpAbout)
	tw.Flush()
	b.WriteString(`
Common flags (each also from the environment):
  -config  path to feeds.yaml        (NETWORKFEED_CONFIG, default feeds.yaml)
  -store   store: a file path for the embedded store, or redis://… (NETWORKFEED_STORE,
           default ./data/networkfeed.db)
  -addr    HTTP listen address        (NETWORKFEED_ADDR, default :8080)

A mistake in the command line exits 2; -h and help exit 0.
`)
	return b.String()
}()

// Env is how the process environment is read (os.Getenv in main).
type Env func(string) string

// common holds the flags every command takes.
type common struct {
	config, store, addr string
	storeSet            bool
}

func (c *common) register(fs *flag.FlagSet, env Env) {
	fs.StringVar(&c.config, "config", envOr(env, "NETWORKFEED_CONFIG", "feeds.yaml"), "path to feeds.yaml")
	fs.StringVar(&c.store, "store", envOr(env, "NETWORKFEED_STORE", "./data/networkfeed.db"), "store: file path (embedded bbolt) or redis://, rediss://, redis[s]+sentinel://, redis[s]+cluster:// URL")
	fs.StringVar(&c.addr, "addr", envOr(env, "NETWORKFEED_ADDR", ":8080"), "HTTP listen address")
	c.storeSet = env("NETWORKFEED_STORE") != ""
}

// newFlags makes a command's flag set with the common flags registered.
func newFlags(name string, env Env) (*flag.FlagSet, *common) {
	fs := newFlagSet(name)
	c := &common{}
	c.register(fs, env)
	return fs, c
}

// newFlagSet makes a command's flag set. It prints nothing itself: Run says a usage
// mistake once, with the command's usage (commandUsage), instead of the flag package's
// "Usage of serve:".
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses a command's flags; a bad flag, and -h or -help (flag.ErrHelp), is a
// usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{fs, err}
	}
	return nil
}

// usageError is a command line a command refused before doing anything: a bad flag, a
// missing or unexpected argument. Run says it with the command's usage and exits 2
// (runtime failures exit 1); flag.ErrHelp prints the usage alone, and exits 0.
type usageError struct {
	fs  *flag.FlagSet
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(fs *flag.FlagSet, format string, a ...any) error {
	return usageError{fs, fmt.Errorf(format, a...)}
}

// commandUsage writes a command's usage: its command line, what it does and its flags.
func commandUsage(w io.Writer, fs *flag.FlagSet) {
	args, about := "[flags]", ""
	for _, c := range commands {
		if c.name == fs.Name() {
			args, about = c.args, c.about
		}
	}
	fmt.Fprintf(w, "usage: networkfeed %s %s\n\n", fs.Name(), args)
	if about != "" {
		fmt.Fprintf(w, "%s\n\n", about)
	}
	fmt.Fprintln(w, "Flags:")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// open loads the config and opens the store the flags name; the caller closes the store.
func (c *common) open(ctx context.Context) (*config.Config, store.Store, error) {
	cfg, err := config.Load(c.config)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, c.store)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// noArgs refuses arguments after the flags of a command that takes none: flag parsing
// stops at the first one, so `check other.yaml` checked feeds.yaml, and `poll x -workers 4`
// ignored -workers.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageErrorf(fs, "unexpected argument %q (flags go before arguments; the config file is -config FILE)", fs.Arg(0))
	}
	return nil
}

func envOr(env Env, key, def string) string {
	if v := env(key); v != "" {
		return v
	}
	return def
}

// Run runs the command named by args[1] and returns the process exit code: 0, 1 when
// the command failed, 2 for a mistake in the command line.
func Run(args []string, env Env, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) < 2 {
		fmt.Fprintf(stderr, "networkfeed: no command given\n\n%s", usage)
		return 2
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return 0
		}
		if len(rest) == 1 && (rest[0] == "help" || rest[0] == "-h" || rest[0] == "-help" || rest[0] == "--help") {
			// help's own usage, as for any command usage lists.
			fmt.Fprintf(stdout, "usage: networkfeed help %s\n\n%s\n", helpArgs, helpAbout)
			return 0
		}
		if len(rest) > 1 || command(rest[0]) == nil {
			fmt.Fprintf(stderr, "networkfeed help: unknown command %q\n\n%s", strings.Join(rest, " "), usage)
			return 2
		}
		cmd, rest = rest[0], []string{"-h"} // the command's own usage
	}
	run := command(cmd)
	if run == nil {
		fmt.Fprintf(stderr, "networkfeed: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if stopProfiles := startProfiles(env, stderr); stopProfiles != nil {
		defer stopProfiles()
	}
	err := run(ctx, rest, env, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue) && errors.Is(ue.err, flag.ErrHelp): // -h, -help
		commandUsage(stdout, ue.fs)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "networkfeed %s: %v\n\n", cmd, err)
		commandUsage(stderr, ue.fs)
		return 2
	default:
		fmt.Fprintf(stderr, "networkfeed %s: %v\n", cmd, err)
		return 1
	}
}

// command returns the function that runs the command name, nil for none.
func command(name string) func(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) error {
	switch name {
	case "serve":
		return runServe
	case "poll":
		return runPoll
	case "check":
		return runCheck
	case "preview":
		return runPreview
	case "build":
		return runBuild
	case "demo":
		return runDemo
	case "import-opml":
		return runImportOPML
	case "prune":
		return runPrune
	}
	return nil
}

// newLogger builds the process logger once: text on a terminal, JSON otherwise.
func newLogger(w io.Writer, env Env) *slog.Logger {
	return newLoggerFor(w, env, isTerminal(w))
}

func newLoggerFor(w io.Writer, env Env, terminal bool) *slog.Logger {
	level := slog.LevelInfo
	if strings.EqualFold(env("NETWORKFEED_LOG"), "debug") {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if terminal {
		log = slog.New(slog.NewTextHandler(lineStart{w}, opts))
	} else {
		log = slog.New(slog.NewJSONHandler(w, opts))
	}
	redisstore.LogTo(log) // go-redis's own messages too
	// And the standard library's: net/http logs through the log package (a server that
	// sent more than its Content-Length: "Unsolicited response received on idle HTTP
	// channel", with the stray bytes; a handler's panic), which would otherwise write
	// lines of its own format among the JSON records.
	stdlog.SetFlags(0)
	stdlog.SetOutput(stdLogWriter{log})
	return log
}

// stdLogWriter turns each line the log package writes into a warning of log.
type stdLogWriter struct{ log *slog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimRight(string(p), "\n"), "component", "stdlib")
	return len(p), nil
}

// lineStart clears the terminal line before each log record (slog writes a record in
// one Write), so a record never lands after the progress line that poll and serve keep
// there; the progress line is drawn again at its next update.
type lineStart struct{ w io.Writer }

func (l lineStart) Write(p []byte) (int, error) {
	if _, err := l.w.Write(append([]byte("\r\033[K"), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// openStore picks the backend from the -store value: Redis for redis URLs, bbolt otherwise.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	for _, p := range []string{"redis://", "rediss://", "redis+sentinel://", "rediss+sentinel://", "redis+cluster://", "rediss+cluster://"} {
		if strings.HasPrefix(dsn, p) {
			return redisstore.Open(ctx, dsn)
		}
	}
	return boltstore.Open(dsn)
}

// newFetcher builds the one HTTP client of the process from the config.
func newFetcher(cfg *config.Config) *fetch.Client {
	ua := cfg.Fetch.UserAgent
	if ua == "" {
		ua = "networkfeed/1.0 (+" + cfg.Network.URL + ")"
	}
	return fetch.New(fetch.Options{
		Timeout:       cfg.Fetch.Timeout.D(),
		MaxBody:       int64(cfg.Fetch.MaxBody),
		AllowPrivate:  cfg.Fetch.AllowPrivateAddresses,
		UserAgent:     ua,
		MaxRedirects:  5,
		PerHost:       cfg.Fetch.PerHost,
		Global:        cfg.Fetch.Concurrency,
		RespectRobots: cfg.Fetch.Robots == nil || *cfg.Fetch.Robots,
	})
}

func newRefresher(cfg func() *config.Config, f poll.Fetcher, s poll.Store, log *slog.Logger) *poll.Refresher {
	return &poll.Refresher{Fetch: f, Store: s, Clean: clean.New(), Log: log, Now: nowFunc, Config: cfg}
}
