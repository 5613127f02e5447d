//go:build linux

package procfs

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func openSelf(t *testing.T) *Proc {
	t.Helper()
	p, err := Open(0)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func countFDs(t *testing.T, p *Proc) (fds, tcp int) {
	t.Helper()
	fds, tcp, err := p.CountFDs(true)
	require.NoError(t, err)
	quickFDs, quickTCP, err := p.CountFDs(false)
	require.NoError(t, err)
	require.Equal(t, fds, quickFDs)
	require.Equal(t, tcp, quickTCP)
	return fds, tcp
}

// loopbackPair returns a connected client and server connection.
func loopbackPair(t *testing.T) (client, server net.Conn, ln net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { server.Close() })
	return client, server, ln
}

func TestCountFDsSelf(t *testing.T) {
	p := openSelf(t)
	fds0, tcp0 := countFDs(t, p)

	// The count matches an independent listing, less the listing's own
	// descriptor and the Proc's.
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	own := 3 + len(p.tasks) // fd, stat, task, task children
	require.Equal(t, len(entries)-1-own, fds0)

	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	fds, tcp := countFDs(t, p)
	require.Equal(t, fds0+1, fds)
	require.Equal(t, tcp0, tcp)

	client, _, ln := loopbackPair(t)
	fds, tcp = countFDs(t, p)
	require.Equal(t, fds0+4, fds, "file, listener, client, server")
	require.Equal(t, tcp0+3, tcp)

	list, err := p.FDs()
	require.NoError(t, err)
	var descs []string
	for _, fd := range list {
		descs = append(descs, fd.String())
	}
	require.Contains(t, descs, "file "+os.DevNull)
	require.Contains(t, descs, "socket tcp "+ln.Addr().String()+" LISTEN")
	require.Contains(t, descs, "socket tcp "+client.LocalAddr().String()+"->"+ln.Addr().String()+" ESTABLISHED")
	require.Contains(t, descs, "socket tcp "+ln.Addr().String()+"->"+client.LocalAddr().String()+" ESTABLISHED")

	require.NoError(t, f.Close())
	fds, _ = countFDs(t, p)
	require.Equal(t, fds0+3, fds)
}

func TestCountFDsHighDescriptor(t *testing.T) {
	p := openSelf(t)
	fds0, _ := countFDs(t, p)
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	// A descriptor far above the others is found by growing the poll range
	// after a listing.
	high, err := dupAbove(int(f.Fd()), 2000)
	require.NoError(t, err)
	defer closeFD(high)
	_, err = p.FDs()
	require.NoError(t, err)
	fds, _ := countFDs(t, p)
	require.Equal(t, fds0+2, fds)
}

func TestReadStat(t *testing.T) {
	p := openSelf(t)
	threads, rss, err := p.ReadStat()
	require.NoError(t, err)
	require.GreaterOrEqual(t, threads, 1)
	require.Positive(t, rss)

	release := make(chan struct{})
	locked := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		close(locked)
		<-release
		runtime.UnlockOSThread()
	}()
	defer close(release)
	<-locked
	// The locked goroutine holds a thread, so the runtime needs one more to
	// run this one when the other is blocked; at least the count is sane.
	threads2, _, err := p.ReadStat()
	require.NoError(t, err)
	require.GreaterOrEqual(t, threads2, 2)
}

func TestChildren(t *testing.T) {
	p := openSelf(t)
	_, _, err := p.ReadStat()
	require.NoError(t, err)
	n0, err := p.CountChildren()
	require.NoError(t, err)

	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	_, _, err = p.ReadStat()
	require.NoError(t, err)
	n, err := p.CountChildren()
	require.NoError(t, err)
	require.Equal(t, n0+1, n)

	kids, err := p.Children()
	require.NoError(t, err)
	require.Len(t, kids, n0+1)
	require.True(t, slices.ContainsFunc(kids, func(c Child) bool { return c.PID == cmd.Process.Pid }), kids)
}

func TestOtherProcess(t *testing.T) {
	// A shell that holds one extra file open and sleeps.
	dir := t.TempDir()
	path := filepath.Join(dir, "held")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	cmd := exec.Command("sh", "-c", "exec 7<"+path+"; exec sleep 30")
	require.NoError(t, cmd.Start())
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var p *Proc
	require.Eventually(t, func() bool {
		// Wait for the exec of sleep, so fd 7 is in place.
		data, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/comm")
		return err == nil && strings.TrimSpace(string(data)) == "sleep"
	}, 10e9, 10e6)
	p, err := Open(cmd.Process.Pid)
	require.NoError(t, err)
	defer p.Close()

	fds, tcp, err := p.CountFDs(true)
	require.NoError(t, err)
	require.GreaterOrEqual(t, fds, 4)
	require.Zero(t, tcp)
	list, err := p.FDs()
	require.NoError(t, err)
	require.Len(t, list, fds)
	require.Contains(t, list, FD{Num: 7, Kind: KindFile, Target: path})

	threads, _, err := p.ReadStat()
	require.NoError(t, err)
	require.Equal(t, 1, threads)

	require.NoError(t, cmd.Process.Kill())
	_, err = cmd.Process.Wait()
	require.NoError(t, err)
	_, _, err = p.CountFDs(true)
	require.ErrorIs(t, err, ErrExited)
}

func dupAbove(fd, min int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, min) }

func closeFD(fd int) { unix.Close(fd) }

// A quick count re-examines a reused descriptor number when its poll
// events change.
func TestQuickCountSeesReuse(t *testing.T) {
	p := openSelf(t)
	fds0, tcp0 := countFDs(t, p)
	client, _, _ := loopbackPair(t)
	num := int(mustFD(t, client))
	_, tcp, err := p.CountFDs(false)
	require.NoError(t, err)
	require.Equal(t, tcp0+3, tcp)

	// Replace the client socket by /dev/null under the same number.
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, unix.Dup3(int(f.Fd()), num, unix.O_CLOEXEC))
	fds, tcp, err := p.CountFDs(false)
	require.NoError(t, err)
	require.Equal(t, fds0+4, fds, "listener, server, the replaced number, the file")
	require.Equal(t, tcp0+2, tcp)
}

func mustFD(t *testing.T, c net.Conn) uintptr {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var fd uintptr
	require.NoError(t, raw.Control(func(f uintptr) { fd = f }))
	return fd
}
