//go:build !leakinject

package selftest

func faults() []Fault { return nil }
