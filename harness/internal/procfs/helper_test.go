package procfs

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// The test binary doubles as the target process of the tests that read
// another process: with helperEnv set, TestMain runs helperMain instead of
// the tests.
const (
	helperEnv      = "LEAKGATE_PROCFS_HELPER" // "hold" or "idle"
	helperFilesEnv = "LEAKGATE_PROCFS_HELPER_FILES"
	helperAddrEnv  = "LEAKGATE_PROCFS_HELPER_ADDR"
)

// helperMain is the helper process. In mode "hold" it opens
// LEAKGATE_PROCFS_HELPER_FILES files, a TCP connection to
// LEAKGATE_PROCFS_HELPER_ADDR, a UDP socket (a socket that is not TCP) and
// one child process (the helper in mode "idle"), prints "ready", and keeps
// them until its standard input ends. In mode "idle" it waits for the end of
// its standard input.
func helperMain(mode string) int {
	if mode == "idle" {
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	n, err := strconv.Atoi(os.Getenv(helperFilesEnv))
	if err != nil {
		return fail(err)
	}
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return fail(err)
		}
		held = append(held, f)
	}
	conn, err := net.Dial("tcp", os.Getenv(helperAddrEnv))
	if err != nil {
		return fail(err)
	}
	held = append(held, conn)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	held = append(held, udp)
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), helperEnv+"=idle")
	childIn, err := child.StdinPipe()
	if err != nil {
		return fail(err)
	}
	if err := child.Start(); err != nil {
		return fail(err)
	}
	defer child.Wait()
	defer childIn.Close()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// helper is a running helper process.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   int
}

// startHelper starts a helper that holds files open files and a TCP
// connection to addr, and waits until it is ready. The helper ends with the
// test.
func startHelper(t *testing.T, files int, addr string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		helperEnv+"=hold",
		helperFilesEnv+"="+strconv.Itoa(files),
		helperAddrEnv+"="+addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	h := &helper{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid}
	t.Cleanup(h.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	return h
}

// stop ends the helper and waits for it; it may be called more than once.
func (h *helper) stop() {
	if h.stdin != nil {
		h.stdin.Close()
		h.cmd.Wait()
		h.stdin = nil
	}
}
