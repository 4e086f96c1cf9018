package app

import (
	"os"
	"strings"
	"testing"
)

// TestMain lets tests start real networkfeed processes: the test binary re-executed with
// NF_TEST_RUN_APP=1 runs app.Run with the arguments in NF_TEST_ARGS (split on \x1f).
func TestMain(m *testing.M) {
	if os.Getenv("NF_TEST_RUN_APP") == "1" {
		args := append([]string{"networkfeed"}, strings.Split(os.Getenv("NF_TEST_ARGS"), "\x1f")...)
		os.Exit(Run(args, os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
