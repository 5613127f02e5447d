//go:build !linux

package procfs

// Proc reads one process's /proc entries; on this platform it cannot be
// opened.
type Proc struct{}

// Open returns ErrUnsupported: this platform has no /proc.
func Open(pid int) (*Proc, error) { return nil, ErrUnsupported }

// Close does nothing.
func (p *Proc) Close() error { return nil }

// CountFDs returns ErrUnsupported.
func (p *Proc) CountFDs(exact bool) (fds, tcp int, err error) { return 0, 0, ErrUnsupported }

// CountOnly returns ErrUnsupported.
func (p *Proc) CountOnly() (int, error) { return 0, ErrUnsupported }

// ReadStat returns ErrUnsupported.
func (p *Proc) ReadStat() (threads int, rss int64, err error) { return 0, 0, ErrUnsupported }

// CountChildren returns ErrUnsupported.
func (p *Proc) CountChildren() (int, error) { return 0, ErrUnsupported }

// FDs returns ErrUnsupported.
func (p *Proc) FDs() ([]FD, error) { return nil, ErrUnsupported }

// Children returns ErrUnsupported.
func (p *Proc) Children() ([]Child, error) { return nil, ErrUnsupported }
