//go:build leakinject

package selftest

import "github.com/leakgate/leakgate/scenarios"

var (
	// bothModes are the two modes, where a fault applies in both.
	bothModes = []scenarios.Mode{scenarios.Mock, scenarios.Live}
	// liveOnly is live mode, where a fault holds sockets.
	liveOnly = []scenarios.Mode{scenarios.Live}
)

// noSockets is why a fault that leaks connections is n/a in mock mode.
const noSockets = "mock mode has no sockets: httpmock answers in process, and an unread body holds nothing"

// providerFaults are the faults of the providers, the engine's lifecycle
// and the CLI.
var providerFaults = []Fault{
	{
		Name: "engine-close-skips-providers",
		Leak: "engine Engine.Close releases the store and forgets every provider client (THR-206)",
		Cases: []Case{
			{Scenario: "engine/open-close", Modes: bothModes, Metrics: []string{"unclosed", "open_clients"}},
			// Live, the clients' idle connections show too: goroutines,
			// fds and conns.
			{Scenario: "cmd/analyze", Modes: bothModes, Metrics: []string{"unclosed", "open_clients"}},
		},
	},
	{
		Name: "cli-command-skips-close",
		Leak: "engine/cli withEngineConfig: ffe balance returns without closing its engine, so its store " +
			"(connection-opener goroutine, database files) and provider clients stay open (THR-206)",
		Cases: []Case{
			{Scenario: "cmd/balance", Modes: bothModes, Metrics: []string{"goroutines", "fds", "unclosed", "open_clients"}},
		},
	},
	{
		Name: "provider-unclosed-body",
		Leak: "providers Client.attempt sends on a context that outlives the attempt and returns an error answer " +
			"without reading or closing its body: the connection and its goroutines are never released",
		Cases: []Case{
			// The refused polygon request of every iteration.
			{Scenario: "provider/unified", Modes: liveOnly, Metrics: []string{"goroutines", "fds", "conns"}, NA: noSockets},
			// Every 5xx attempt, retries included.
			{Scenario: "cmd/analyze/provider-5xx", Modes: liveOnly, Metrics: []string{"goroutines", "fds", "conns"},
				NA: noSockets},
		},
	},
	{
		Name: "client-per-request",
		Leak: "providers/yahoo Client.chart builds a new core client, with a transport of its own, for every " +
			"request and never closes it",
		Cases: []Case{
			{Scenario: "provider/yahoo", Modes: bothModes, Metrics: []string{"unclosed", "open_clients"}},
			{Scenario: "provider/unified", Modes: bothModes, Metrics: []string{"unclosed", "open_clients"}},
		},
	},
	{
		Name: "scanner-session-not-closed",
		Leak: "engine Engine.sentiment opens a Reddit client per scan and closes it only when the scan " +
			"succeeds (BUG-040's reddit_scanner)",
		Cases: []Case{
			{Scenario: "cmd/analyze/sentiment-fails-midway", Modes: bothModes, Metrics: []string{"unclosed", "open_clients"}},
		},
	},
	{
		Name: "cache-unbounded",
		Leak: "providers/unified cache.put never evicts: the unified provider keeps every answer it was asked for",
		Cases: []Case{
			// About 8 KiB a new entry: too close to the heap's tail_slope<8KiB
			// to be the metric expected.
			{Scenario: "provider/unified", Modes: bothModes, Metrics: []string{"cache_entries"}},
		},
	},
	{
		Name: "db-rows-not-closed",
		Leak: "engine/store Store.Decisions reads the rows up to the limit and never closes them: the result set " +
			"keeps its SQLite connection, its files and a goroutine after the store is closed",
		Cases: []Case{
			{Scenario: "cmd/history", Modes: bothModes, Metrics: []string{"goroutines", "fds"}},
		},
	},
}
