//go:build leakinject

package selftest

// engineFaults are the faults of the export service: crew, monitor,
// exporter and server.
var engineFaults = []Fault{}
