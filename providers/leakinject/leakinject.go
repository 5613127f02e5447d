// Package leakinject holds the project's known leaks, each at the real
// place in the code where it once was or could be, compiled out of
// normal builds. A leak gate is trusted only if it catches them: the
// self-test (leakgate selftest, make selftest) runs each against the
// scenarios that exercise it and proves it is caught, and proves that the
// clean build passes the same scenarios.
//
// In a normal build On is a constant false that the compiler removes
// together with the code it guards, and the faults' names are not in the
// binary. Built with the leakinject tag, LEAKINJECT=name,name turns faults
// on; an unknown name is an error that Check reports.
//
// An injection point reads
//
//	if leakinject.On(leakinject.DBRowsNotClosed) {
//		return out, nil // the leak: rows left open
//	}
//
// To add a fault when a new leak is found in the wild: add its constant
// here and its name in on.go, reproduce the leak behind
// On at its real place, add the scenarios and the metric expected to
// catch it to the self-test's table (scenarios/selftest), watch the
// self-test go red on a build without the fix's scenario coverage, then
// fix the code.
package leakinject

// Fault identifies one known leak. Its name exists only in leakinject
// builds.
type Fault int

// The faults.
const (
	// EngineCloseSkipsProviders: Engine.Close forgets the providers (the
	// CLI incident, THR-206).
	EngineCloseSkipsProviders Fault = iota + 1
	// CLICommandSkipsClose: one command path returns without the
	// lifecycle wrapper closing the engine.
	CLICommandSkipsClose
	// ProviderUnclosedBody: a provider returns without closing a response
	// body.
	ProviderUnclosedBody
	// ClientPerRequest: a provider builds a new HTTP client for every call
	// and never closes it.
	ClientPerRequest
	// ScannerSessionNotClosed: the Reddit scanner's per-scan client is not
	// closed when the scan fails (BUG-040).
	ScannerSessionNotClosed
	// CrewMemoryUnbounded: the crew keeps memory for every job (BUG-040).
	CrewMemoryUnbounded
	// CrewOutputRetained: a finished crew's output stays referenced after
	// the job.
	CrewOutputRetained
	// MonitorGoroutineNotStopped: the stock monitor's ticker goroutine
	// survives Stop.
	MonitorGoroutineNotStopped
	// ExportFileNotClosed: the export writer leaves a file handle open.
	ExportFileNotClosed
	// DBRowsNotClosed: a history query leaves its rows open.
	DBRowsNotClosed
	// CacheUnbounded: the unified provider's cache loses its bound.
	CacheUnbounded
	// ServerGoroutinePerJob: the export server starts a goroutine per job
	// that never ends.
	ServerGoroutinePerJob
)
