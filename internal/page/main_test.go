package page

import (
	"os"
	"testing"
	"time"
)

// TestMain gives the tests' pages a date-search budget no loaded machine exhausts:
// searchBudget is wall-clock time, and under -race with other packages' tests on 2 CPUs
// the General Secretariat's page (0.5 s of searches alone) lost its last item's date.
// The tests of the budget itself set their own.
func TestMain(m *testing.M) {
	searchBudget = time.Minute
	os.Exit(m.Run())
}
