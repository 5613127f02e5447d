//go:build linux

package procfs

import (
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// reading is what one backend reads of a process.
type reading struct {
	fds, tcp, threads, children int
	rss                         int64
	conns                       []string // the TCP sockets of FDs, described
	files                       []string // the files of FDs
	kids                        []int    // the PIDs of Children
}

// backend is the Proc API that both backends implement.
type backend interface {
	Close() error
	CountFDs(exact bool) (fds, tcp int, err error)
	CountOnly() (int, error)
	ReadStat() (threads int, rss int64, err error)
	CountChildren() (int, error)
	FDs() ([]FD, error)
	Children() ([]Child, error)
}

var (
	_ backend = (*Proc)(nil)
	_ backend = (*Portable)(nil)
)

// read reads a process with b; skip leaves out descriptors by number
// from the listing.
func read(t *testing.T, b backend, skip func(num int) bool) reading {
	t.Helper()
	var r reading
	var err error
	r.threads, r.rss, err = b.ReadStat()
	require.NoError(t, err)
	r.children, err = b.CountChildren()
	require.NoError(t, err)
	r.fds, r.tcp, err = b.CountFDs(true)
	require.NoError(t, err)
	only, err := b.CountOnly()
	require.NoError(t, err)
	require.Equal(t, r.fds, only, "CountOnly and CountFDs")
	fds, err := b.FDs()
	require.NoError(t, err)
	for _, f := range fds {
		switch {
		case skip(f.Num):
		case f.Conn != nil:
			r.conns = append(r.conns, f.String())
		case f.Kind == KindFile:
			r.files = append(r.files, f.String())
		}
	}
	kids, err := b.Children()
	require.NoError(t, err)
	for _, k := range kids {
		r.kids = append(r.kids, k.PID)
	}
	return r
}

// requireAgree checks that the two backends' readings agree: counts of
// descriptors, connections and children equal, threads within a few of
// each other (the runtime may start one between the readings), resident
// memory within 10% or 4 MiB.
func requireAgree(t *testing.T, proc, port reading) {
	t.Helper()
	require.Equal(t, proc.fds, port.fds, "descriptors")
	require.Equal(t, proc.tcp, port.tcp, "TCP connections")
	require.Equal(t, proc.children, port.children, "children")
	require.ElementsMatch(t, proc.conns, port.conns, "TCP connections listed")
	require.ElementsMatch(t, proc.files, port.files, "files listed")
	require.Equal(t, proc.kids, port.kids, "children listed")
	require.InDelta(t, proc.threads, port.threads, 3, "threads")
	require.InDelta(t, proc.rss, port.rss, max(4<<20, 0.1*float64(proc.rss)), "resident memory")
}

// The backends read this process alike, with a file, a listener, both ends
// of a loopback connection, a UDP socket and a child process open.
func TestPortableAgreesSelf(t *testing.T) {
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	loopbackPair(t)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer udp.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	h := startHelper(t, 0, ln.Addr().String())
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()

	proc := openSelf(t)
	port, err := OpenPortable(0)
	require.NoError(t, err)
	defer port.Close()

	// Proc keeps descriptors of its own open (fd, stat and task
	// directories, a children file per thread) and leaves them out of its
	// counts; Portable keeps none and leaves out the directory it lists
	// while it lists. So Portable sees Proc's: read with Proc first, which
	// opens the children files it needs, and allow for them after.
	procR := read(t, proc, func(int) bool { return false })
	require.NotEmpty(t, proc.tasks)
	portR := read(t, port, proc.isOwn)
	ownByProc := 3 + len(proc.tasks)
	portR.fds -= ownByProc

	require.Contains(t, procR.kids, h.pid)
	require.Contains(t, procR.files, "file "+os.DevNull)
	require.GreaterOrEqual(t, procR.tcp, 5, "two listeners, three connection ends")
	t.Logf("proc %+v\nportable %+v", procR, portR)
	requireAgree(t, procR, portR)
}

// The backends read another process alike: the helper, with three files, a
// TCP connection, a UDP socket and a child process open.
func TestPortableAgreesOther(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	h := startHelper(t, 3, ln.Addr().String())
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()

	proc, err := Open(h.pid)
	require.NoError(t, err)
	defer proc.Close()
	port, err := OpenPortable(h.pid)
	require.NoError(t, err)
	defer port.Close()

	none := func(int) bool { return false }
	procR := read(t, proc, none)
	portR := read(t, port, none)
	require.Equal(t, 1, procR.tcp)
	require.Equal(t, 1, procR.children)
	require.Equal(t, []string{"socket tcp " + server.RemoteAddr().String() + "->" + ln.Addr().String() + " ESTABLISHED"}, procR.conns)
	t.Logf("proc %+v\nportable %+v", procR, portR)
	requireAgree(t, procR, portR)

	// Gone: both say so.
	h.stop()
	for name, b := range map[string]backend{"proc": proc, "portable": port} {
		_, _, err := b.CountFDs(true)
		require.ErrorIs(t, err, ErrExited, name)
	}
	_, _, err = port.ReadStat()
	require.ErrorIs(t, err, ErrExited)
	_, err = port.CountChildren()
	require.ErrorIs(t, err, ErrExited)
	_, err = port.FDs()
	require.ErrorIs(t, err, ErrExited)
}
