//go:build !leakinject

package leakinject

// Enabled reports whether this build carries the faults.
const Enabled = false

// On reports whether fault f is turned on: never, in a normal build.
func On(Fault) bool { return false }

// Check reports a LEAKINJECT setting that names unknown faults; a normal
// build has none to turn on and ignores it.
func Check() error { return nil }

// Names returns the names of every fault: none in a normal build.
func Names() []string { return nil }
