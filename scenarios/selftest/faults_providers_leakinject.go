//go:build leakinject

package selftest

// providerFaults are the faults of the providers, the engine's lifecycle
// and the CLI.
var providerFaults = []Fault{}
