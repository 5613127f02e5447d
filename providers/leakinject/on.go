//go:build leakinject

package leakinject

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// Enabled reports whether this build carries the faults.
const Enabled = true

// EnvVar turns faults on: a comma-separated list of names.
const EnvVar = "LEAKINJECT"

// numFaults is one past the last fault.
const numFaults = ServerGoroutinePerJob + 1

// names are the faults' names, by constant.
var names = [numFaults]string{
	EngineCloseSkipsProviders:  "engine-close-skips-providers",
	CLICommandSkipsClose:       "cli-command-skips-close",
	ProviderUnclosedBody:       "provider-unclosed-body",
	ClientPerRequest:           "client-per-request",
	ScannerSessionNotClosed:    "scanner-session-not-closed",
	CrewMemoryUnbounded:        "crew-memory-unbounded",
	CrewOutputRetained:         "crew-output-retained",
	MonitorGoroutineNotStopped: "monitor-goroutine-not-stopped",
	ExportFileNotClosed:        "export-file-not-closed",
	DBRowsNotClosed:            "db-rows-not-closed",
	CacheUnbounded:             "cache-unbounded",
	ServerGoroutinePerJob:      "server-goroutine-per-job",
}

// Names returns the names of every fault, sorted.
func Names() []string {
	out := append([]string(nil), names[1:]...)
	sort.Strings(out)
	return out
}

// String returns a fault's name.
func (f Fault) String() string {
	if f <= 0 || f >= numFaults {
		return fmt.Sprintf("Fault(%d)", int(f))
	}
	return names[f]
}

// Parse reads a comma-separated list of fault names; an unknown name is
// an error that lists the known ones.
func Parse(s string) ([]Fault, error) {
	var out []Fault
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		f := lookup(n)
		if f == 0 {
			return nil, fmt.Errorf("%s: unknown fault %q (known: %s)", EnvVar, n, strings.Join(Names(), ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

func lookup(name string) Fault {
	for f := Fault(1); f < numFaults; f++ {
		if names[f] == name {
			return f
		}
	}
	return 0
}

// active is the set LEAKINJECT turns on, read once.
var active = sync.OnceValues(func() ([numFaults]bool, error) {
	var on [numFaults]bool
	fs, err := Parse(os.Getenv(EnvVar))
	for _, f := range fs {
		on[f] = true
	}
	return on, err
})

// On reports whether fault f is turned on by LEAKINJECT.
func On(f Fault) bool {
	on, _ := active()
	return f > 0 && f < numFaults && on[f]
}

// Check returns an error when LEAKINJECT names an unknown fault. Mains
// call it first, so that a misspelt fault is never silently off.
func Check() error {
	_, err := active()
	return err
}
