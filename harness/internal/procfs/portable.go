package procfs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// callTimeout bounds one gopsutil call: on macOS and the BSDs the TCP
// connections come from running lsof(8).
const callTimeout = 30 * time.Second

// errClosed is returned by a Portable used after Close.
var errClosed = errors.New("procfs: closed")

// Portable reads a process through gopsutil's process and net packages: the
// backend of Open on every platform but Linux, and on Linux a second,
// independent reading of the same process to check the /proc readers
// against. It keeps no file open between calls; every call asks the
// operating system afresh and allocates.
//
// What each platform provides (gopsutil v4):
//
//   - descriptors: the count of open descriptors (proc_pidinfo on macOS,
//     /proc on Linux); on Windows the count of open handles of every kind;
//     not available on the BSDs.
//   - TCP connections: lsof(8) on macOS and FreeBSD, the owner tables of
//     GetExtendedTcpTable on Windows, /proc on Linux.
//   - threads and resident memory everywhere (the working set on Windows).
//   - children: by scanning every process's parent.
//   - the listing of descriptors (FDs): open files with their paths on Linux
//     and Windows, plus the TCP connections everywhere; macOS and the BSDs
//     list only the connections.
//
// What a platform lacks is reported as an error wrapping ErrUnsupported
// that names it. A Portable is not safe for concurrent use.
type Portable struct {
	pid  int32
	self bool
	proc *process.Process
}

// OpenPortable starts reading the process pid; 0 means this process. It
// returns an error wrapping ErrExited when there is no such process.
func OpenPortable(pid int) (*Portable, error) {
	self := pid == 0 || pid == os.Getpid()
	if self {
		pid = os.Getpid()
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	proc, err := process.NewProcessWithContext(ctx, int32(pid))
	switch {
	case errors.Is(err, process.ErrorProcessNotRunning):
		return nil, fmt.Errorf("procfs: open process %d: %w", pid, ErrExited)
	case err != nil:
		return nil, fmt.Errorf("procfs: open process %d: %w", pid, err)
	}
	return &Portable{pid: int32(pid), self: self, proc: proc}, nil
}

// Close releases the Portable; it holds nothing open, so it only marks it
// closed. It may be called more than once.
func (p *Portable) Close() error {
	p.proc = nil
	return nil
}

// ownDescriptors is how many descriptors of this process gopsutil opens to
// count them, and counts: on Linux the /proc/self/fd directory it lists, on
// Windows the handle to the process it opens to ask.
func ownDescriptors() int {
	switch runtime.GOOS {
	case "linux", "windows":
		return 1
	}
	return 0
}

// CountFDs counts the open descriptors (handles, on Windows) and the TCP
// connections among them. exact makes no difference: every count asks
// afresh.
func (p *Portable) CountFDs(exact bool) (fds, tcp int, err error) {
	fds, err = p.CountOnly()
	if err != nil {
		return 0, 0, err
	}
	conns, err := p.tcpConns()
	if err != nil {
		return 0, 0, err
	}
	return fds, len(conns), nil
}

// CountOnly counts the open descriptors (handles, on Windows), less the
// one the count itself opens when the process is this one.
func (p *Portable) CountOnly() (int, error) {
	if p.proc == nil {
		return 0, errClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	n, err := p.proc.NumFDsWithContext(ctx)
	if err != nil {
		return 0, p.fail(ctx, "descriptor count", err)
	}
	fds := int(n)
	if p.self {
		fds -= ownDescriptors()
	}
	return fds, nil
}

// tcpConns lists the process's TCP sockets, listening ones included.
func (p *Portable) tcpConns() ([]net.ConnectionStat, error) {
	if p.proc == nil {
		return nil, errClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	conns, err := net.ConnectionsPidWithContext(ctx, "tcp", p.pid)
	if err != nil {
		return nil, p.fail(ctx, "TCP connections", err)
	}
	return conns, nil
}

// ReadStat reads the number of threads and the resident memory in bytes.
func (p *Portable) ReadStat() (threads int, rss int64, err error) {
	if p.proc == nil {
		return 0, 0, errClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	n, err := p.proc.NumThreadsWithContext(ctx)
	if err == nil && n <= 0 {
		// macOS answers zero, not an error, for a process that is gone.
		err = errors.New("no threads")
	}
	if err != nil {
		return 0, 0, p.fail(ctx, "thread count", err)
	}
	mem, err := p.proc.MemoryInfoWithContext(ctx)
	if err != nil {
		return 0, 0, p.fail(ctx, "resident memory", err)
	}
	return int(n), int64(mem.RSS), nil
}

// CountChildren counts the child processes.
func (p *Portable) CountChildren() (int, error) {
	kids, err := p.children()
	return len(kids), err
}

func (p *Portable) children() ([]*process.Process, error) {
	if p.proc == nil {
		return nil, errClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	kids, err := p.proc.ChildrenWithContext(ctx)
	if err == nil && len(kids) == 0 && !p.running(ctx) {
		// The children are found by their parent's PID, which a process
		// that is gone still has.
		err = errors.New("no process")
	}
	if err != nil {
		return nil, p.fail(ctx, "children", err)
	}
	return kids, nil
}

// Children lists the child processes, by PID, with their names and states.
func (p *Portable) Children() ([]Child, error) {
	kids, err := p.children()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out := make([]Child, 0, len(kids))
	for _, k := range kids {
		c := Child{PID: int(k.Pid), Comm: "?", State: "?"}
		if name, err := k.NameWithContext(ctx); err == nil && name != "" {
			c.Comm = name
		}
		if st, err := k.StatusWithContext(ctx); err == nil && len(st) > 0 {
			c.State = stateLetter(st[0])
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Child) int { return a.PID - b.PID })
	return out, nil
}

// stateLetter gives gopsutil's process status as the letter of
// /proc/PID/stat.
func stateLetter(status string) string {
	switch status {
	case process.Running:
		return "R"
	case process.Sleep:
		return "S"
	case process.Blocked:
		return "D"
	case process.Zombie:
		return "Z"
	case process.Stop:
		return "T"
	case process.Idle:
		return "I"
	case process.Wait:
		return "W"
	case process.Lock:
		return "L"
	}
	return "?"
}

// FDs lists the open descriptors that the platform can describe: on Linux
// every descriptor, on Windows the open files and the TCP connections, on
// macOS and the BSDs the TCP connections only. TCP sockets carry their
// endpoints and state.
func (p *Portable) FDs() ([]FD, error) {
	if p.proc == nil {
		return nil, errClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	files, err := p.proc.OpenFilesWithContext(ctx)
	if err != nil && !isNotImplemented(err) {
		return nil, p.fail(ctx, "open files", err)
	}
	conns, err := p.tcpConns()
	if err != nil {
		return nil, err
	}
	byFD := make(map[uint64]*Conn, len(conns))
	var unnumbered []*Conn
	for _, c := range conns {
		conn := convertConn(c)
		if c.Fd == 0 {
			// Windows does not say which handle owns a connection.
			unnumbered = append(unnumbered, conn)
			continue
		}
		byFD[uint64(c.Fd)] = conn
	}
	// The directory gopsutil listed, when this process's own, was open
	// during the listing.
	ownDir := "/proc/" + strconv.Itoa(int(p.pid)) + "/fd"
	out := make([]FD, 0, len(files)+len(conns))
	for _, f := range files {
		if p.self && f.Path == ownDir {
			continue
		}
		fd := FD{Num: int(f.Fd), Target: f.Path, Kind: KindOf(f.Path)}
		if c, ok := byFD[f.Fd]; ok {
			fd.Kind, fd.Conn = KindSocket, c
			if ino, ok := SocketInode(f.Path); ok {
				c.Inode = ino
			}
			delete(byFD, f.Fd)
		}
		out = append(out, fd)
	}
	for num, c := range byFD {
		out = append(out, FD{Num: int(num), Kind: KindSocket, Target: "socket:" + c.String(), Conn: c})
	}
	for _, c := range unnumbered {
		out = append(out, FD{Num: -1, Kind: KindSocket, Target: "socket:" + c.String(), Conn: c})
	}
	slices.SortFunc(out, func(a, b FD) int {
		if a.Num != b.Num {
			return a.Num - b.Num
		}
		return strings.Compare(a.Target, b.Target)
	})
	return out, nil
}

// convertConn converts a gopsutil connection to a Conn, with the state
// names of Linux's /proc/net/tcp.
func convertConn(c net.ConnectionStat) *Conn {
	v6 := c.Family == syscall.AF_INET6
	conn := &Conn{
		Proto:  "tcp",
		Local:  addrPort(c.Laddr, v6),
		Remote: addrPort(c.Raddr, v6),
		State:  stateName(c.Status),
	}
	if v6 {
		conn.Proto = "tcp6"
	}
	return conn
}

func addrPort(a net.Addr, v6 bool) netip.AddrPort {
	ip, err := netip.ParseAddr(strings.Trim(a.IP, "[]"))
	if err != nil {
		// No peer: the unspecified address, as /proc/net/tcp shows it.
		ip = netip.IPv4Unspecified()
		if v6 {
			ip = netip.IPv6Unspecified()
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(a.Port))
}

// stateName maps the state names of lsof(8) and Windows ("FIN_WAIT_1",
// "SYN_RECEIVED", "CLOSED") to those of Linux ("FIN_WAIT1", "SYN_RECV",
// "CLOSE").
func stateName(s string) string {
	switch s {
	case "":
		return "UNKNOWN"
	case "FIN_WAIT_1":
		return "FIN_WAIT1"
	case "FIN_WAIT_2":
		return "FIN_WAIT2"
	case "SYN_RECEIVED":
		return "SYN_RECV"
	case "CLOSED":
		return "CLOSE"
	}
	return s
}

// isNotImplemented reports whether err is gopsutil's "not implemented yet"
// (an error of an internal package, known only by its text).
func isNotImplemented(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "not implemented yet" {
			return true
		}
	}
	return false
}

// fail wraps a gopsutil error with what was read: ErrUnsupported where the
// platform lacks it, ErrExited when the process is gone.
func (p *Portable) fail(ctx context.Context, what string, err error) error {
	if isNotImplemented(err) {
		return fmt.Errorf("procfs: %s on %s: %w", what, runtime.GOOS, ErrUnsupported)
	}
	if !p.running(ctx) {
		return fmt.Errorf("procfs: %s of process %d: %w", what, p.pid, ErrExited)
	}
	return fmt.Errorf("procfs: %s of process %d: %w", what, p.pid, err)
}

// running reports whether the process is still the one opened: a PID
// reused by a new process (another creation time) is not.
func (p *Portable) running(ctx context.Context) bool {
	if p.self {
		return true
	}
	ok, err := p.proc.IsRunningWithContext(ctx)
	if err == nil {
		return ok
	}
	exists, err := process.PidExistsWithContext(ctx, p.pid)
	return err != nil || exists
}
