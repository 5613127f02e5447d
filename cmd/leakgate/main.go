// Command leakgate is the leak gate: it replays scenarios many times in
// worker processes, samples their resources and fails when growth passes
// thresholds. See package scenarios/cli for the commands.
package main

import (
	"os"

	"github.com/leakgate/leakgate/scenarios/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
