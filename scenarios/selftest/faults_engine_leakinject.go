//go:build leakinject

package selftest

import "github.com/leakgate/leakgate/scenarios"

// engineBothModes are the two modes, where a fault applies in both.
var engineBothModes = []scenarios.Mode{scenarios.Mock, scenarios.Live}

// engineFaults are the faults of the export service: crew, monitor,
// exporter and server.
var engineFaults = []Fault{
	{
		Name: "crew-memory-unbounded",
		Leak: "engine/crew Memory.Add grows the memory past its bound instead of dropping the oldest entry: " +
			"the crew remembers every job (BUG-040)",
		Cases: []Case{
			{Scenario: "crew/run", Modes: engineBothModes, Metrics: []string{"crew_memory_entries", "crew_memory_bytes"}},
			// The incident itself: the crew's memory over export cycles, read
			// from the server's ffe_crew_memory_entries.
			{Scenario: "export/in-process", Modes: engineBothModes, Metrics: []string{"crew_memory_entries"}},
			{Scenario: "export/process", Modes: engineBothModes, Metrics: []string{"crew_memory_entries"}},
		},
	},
	{
		Name: "crew-output-retained",
		Leak: "engine/crew Crew.Run keeps every finished run, its report with the tools' outputs and its input bars, " +
			"in a list nothing trims",
		Cases: []Case{
			{Scenario: "crew/run", Modes: engineBothModes, Metrics: []string{"heap"}},
			{Scenario: "export/in-process", Modes: engineBothModes, Metrics: []string{"heap"}},
			{Scenario: "export/process", NA: "about 12 KiB retained per cycle, under the server process's heap " +
				"threshold slope<64KiB (the noise of its own collections); export/in-process catches it"},
		},
	},
	{
		Name: "monitor-goroutine-not-stopped",
		Leak: "engine/monitor Monitor.Stop returns without cancelling the poll loop: its ticker goroutine " +
			"survives Stop",
		Cases: []Case{
			{Scenario: "monitor/start-stop", Modes: engineBothModes, Metrics: []string{"goroutines"}},
		},
	},
	{
		Name: "export-file-not-closed",
		Leak: "engine/exportbundle writeNew leaves each written bundle file open, for its finalizer to close " +
			"at a later collection",
		Cases: []Case{
			{Scenario: "export/in-process", Modes: engineBothModes, Metrics: []string{"fds"}},
			{Scenario: "export/process", NA: "the server process collects on its own schedule and the files' " +
				"finalizers close them; the harness can pause only its own process's collector, so " +
				"export/in-process catches it"},
		},
	},
	{
		Name: "server-goroutine-per-job",
		Leak: "engine/server trigger starts a goroutine per job that waits for the server's shutdown to cancel it, " +
			"and does not end with the job",
		Cases: []Case{
			{Scenario: "export/in-process", Modes: engineBothModes, Metrics: []string{"goroutines"}},
			{Scenario: "export/process", Modes: engineBothModes, Metrics: []string{"goroutines"}},
		},
	},
}
