// Command networkfeed gathers the news of a network's members and republishes it as one
// feed and a web view. See README.md; the wiring lives in internal/app.
package main

import (
	"os"
	_ "time/tzdata" // member time zones work in minimal containers too

	"github.com/iss-network/networkfeed/internal/app"
)

func main() {
	os.Exit(app.Run(os.Args, os.Getenv, os.Stdout, os.Stderr))
}
