package harness

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness/internal/procfs"
	"github.com/leakgate/leakgate/harness/internal/stack"
)

func tcpFD(num int, local, remote, state string) procfs.FD {
	return procfs.FD{Num: num, Kind: procfs.KindSocket, Target: "socket:[" + local + remote + "]", Conn: &procfs.Conn{
		Proto: "tcp", Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote), State: state,
	}}
}

func TestFDAndConnFindings(t *testing.T) {
	listener := tcpFD(3, "127.0.0.1:8080", "0.0.0.0:0", "LISTEN")
	base := []procfs.FD{
		{Num: 0, Kind: procfs.KindFile, Target: "/dev/null"},
		listener,
	}
	fresh := []procfs.FD{
		{Num: 5, Kind: procfs.KindFile, Target: "/tmp/x"},
		{Num: 6, Kind: procfs.KindFile, Target: "/tmp/x"},
		{Num: 7, Kind: procfs.KindPipe, Target: "pipe:[9]"},
		{Num: 8, Kind: procfs.KindAnon, Target: "anon_inode:[eventpoll]"},
		tcpFD(9, "127.0.0.1:41234", "127.0.0.1:9090", "ESTABLISHED"),
		tcpFD(10, "127.0.0.1:41236", "127.0.0.1:9090", "ESTABLISHED"),
		tcpFD(11, "127.0.0.1:8080", "127.0.0.1:50000", "CLOSE_WAIT"),
		tcpFD(12, "127.0.0.1:7070", "0.0.0.0:0", "LISTEN"),
	}
	final := append(append([]procfs.FD{}, base...), fresh...)
	require.Equal(t, fresh, newFDs(base, final))
	require.Equal(t, []Finding{
		{Metric: "fds", Kind: "fd", Count: 2, Summary: "file /tmp/x", Items: []string{"fd 5", "fd 6"}},
		{Metric: "fds", Kind: "fd", Count: 2, Summary: "socket tcp ESTABLISHED to 127.0.0.1:9090", Items: []string{
			"fd 9: tcp 127.0.0.1:41234->127.0.0.1:9090 ESTABLISHED", "fd 10: tcp 127.0.0.1:41236->127.0.0.1:9090 ESTABLISHED"}},
		{Metric: "fds", Kind: "fd", Count: 1, Summary: "pipe", Items: []string{"fd 7"}},
		{Metric: "fds", Kind: "fd", Count: 1, Summary: "anon_inode:[eventpoll]", Items: []string{"fd 8"}},
		{Metric: "fds", Kind: "fd", Count: 1, Summary: "socket tcp CLOSE_WAIT accepted on 127.0.0.1:8080 from 127.0.0.1", Items: []string{
			"fd 11: tcp 127.0.0.1:8080->127.0.0.1:50000 CLOSE_WAIT"}},
		{Metric: "fds", Kind: "fd", Count: 1, Summary: "socket tcp LISTEN on 127.0.0.1:7070", Items: []string{"fd 12: tcp 127.0.0.1:7070 LISTEN"}},
	}, fdFindings(final, fresh))
	require.Equal(t, []Finding{
		{Metric: "conns", Kind: "conn", Count: 2, Summary: "ESTABLISHED to 127.0.0.1:9090", Items: []string{
			"tcp 127.0.0.1:41234->127.0.0.1:9090 ESTABLISHED", "tcp 127.0.0.1:41236->127.0.0.1:9090 ESTABLISHED"}},
		{Metric: "conns", Kind: "conn", Count: 1, Summary: "CLOSE_WAIT accepted on 127.0.0.1:8080 from 127.0.0.1", Items: []string{
			"tcp 127.0.0.1:8080->127.0.0.1:50000 CLOSE_WAIT"}},
		{Metric: "conns", Kind: "conn", Count: 1, Summary: "LISTEN on 127.0.0.1:7070", Items: []string{"tcp 127.0.0.1:7070 LISTEN"}},
	}, connFindings(final, fresh))

	gone := goneFDs(final, base)
	require.Equal(t, Finding{Metric: "conns", Kind: "gc-released", Count: 4,
		Summary: "TCP connections released only by garbage collection: dropped without Close",
		Items: []string{
			"fd 9: socket tcp 127.0.0.1:41234->127.0.0.1:9090 ESTABLISHED",
			"fd 10: socket tcp 127.0.0.1:41236->127.0.0.1:9090 ESTABLISHED",
			"fd 11: socket tcp 127.0.0.1:8080->127.0.0.1:50000 CLOSE_WAIT",
			"fd 12: socket tcp 127.0.0.1:7070 LISTEN",
		}}, gcReleasedFinding(MetricConns, 4, gone))
}

func TestGoroutineFindings(t *testing.T) {
	base := goroutineIDs([]stack.Goroutine{{ID: 1, State: "running", Top: "main.main"}})
	final := []stack.Goroutine{
		{ID: 1, State: "running", Top: "main.main"},
		{ID: 7, State: "select", Top: "net/http.(*persistConn).writeLoop", Creator: "net/http.(*Transport).dialConn", Stack: "goroutine 7 [select]:\n..."},
		{ID: 8, State: "IO wait", Top: "internal/poll.runtime_pollWait", Creator: "net/http.(*Transport).dialConn", Stack: "goroutine 8"},
		{ID: 9, State: "select", Top: "net/http.(*persistConn).writeLoop", Creator: "net/http.(*Transport).dialConn", Stack: "goroutine 9"},
	}
	require.Equal(t, []Finding{
		{Metric: "goroutines", Kind: "goroutine", Count: 2, Summary: "[select] net/http.(*persistConn).writeLoop, created by net/http.(*Transport).dialConn", Stack: "goroutine 7 [select]:\n..."},
		{Metric: "goroutines", Kind: "goroutine", Count: 1, Summary: "[IO wait] internal/poll.runtime_pollWait, created by net/http.(*Transport).dialConn", Stack: "goroutine 8"},
	}, goroutineFindings(base, final))
}

func TestChildAndItemFindings(t *testing.T) {
	base := []procfs.Child{{PID: 10, Comm: "sh", State: "S"}}
	final := []procfs.Child{
		{PID: 10, Comm: "sh", State: "S"},
		{PID: 11, Comm: "sleep", State: "Z"},
		{PID: 12, Comm: "sleep", State: "S"},
		{PID: 13, Comm: "sleep", State: "Z"},
	}
	require.Equal(t, []Finding{
		{Metric: "children", Kind: "child", Count: 2, Summary: "sleep (zombie: exited, not waited for)", Items: []string{"pid 11 (Z)", "pid 13 (Z)"}},
		{Metric: "children", Kind: "child", Count: 1, Summary: "sleep", Items: []string{"pid 12 (S)"}},
	}, childFindings(base, final))

	require.Equal(t, []Finding{
		{Metric: "sessions", Kind: "item", Count: 2, Summary: "b"},
		{Metric: "sessions", Kind: "item", Count: 1, Summary: "c"},
	}, itemFindings("sessions", []string{"a", "b"}, []string{"a", "b", "b", "b", "c"}))
}
