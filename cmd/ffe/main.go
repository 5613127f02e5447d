// Command ffe is the finance feedback engine's command line; see package
// engine/cli for the commands.
package main

import (
	"os"

	"github.com/leakgate/leakgate/engine/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
