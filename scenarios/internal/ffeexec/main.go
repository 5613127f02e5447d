// Command ffeexec runs the ffe CLI when its first argument is "ffe"
// (scenarios.FFECommand), the protocol of scenarios.Env.Executable: tests
// build it to start `ffe serve` as a separate process.
//
//	ffeexec ffe serve --addr 127.0.0.1:0
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/leakgate/leakgate/engine/cli"
	"github.com/leakgate/leakgate/scenarios"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run dispatches args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != scenarios.FFECommand {
		fmt.Fprintf(stderr, "usage: ffeexec %s [ffe arguments]\n", scenarios.FFECommand)
		return cli.ExitUsage
	}
	return cli.Main(args[1:], stdin, stdout, stderr)
}
