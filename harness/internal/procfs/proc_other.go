//go:build !linux

package procfs

// Proc reads one process. Without /proc it is the gopsutil backend,
// Portable; see there what each platform provides.
type Proc = Portable

// Open starts reading the process pid; 0 means this process. It returns an
// error wrapping ErrExited when there is no such process.
func Open(pid int) (*Proc, error) { return OpenPortable(pid) }
