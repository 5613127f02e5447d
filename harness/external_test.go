//go:build linux

package harness_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// child is a running leakychild, driven one command at a time.
type child struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Scanner
	metrics string // its metrics URL, with -metrics
}

// buildLeakyChild compiles harness/internal/cmd/leakychild.
func buildLeakyChild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "leakychild")
	out, err := exec.Command("go", "build", "-o", bin, "./internal/cmd/leakychild").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func startChild(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-timeout=2m"}, args...)...)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	require.True(t, c.out.Scan(), "child greeting")
	if url, ok := strings.CutPrefix(c.out.Text(), "metrics "); ok {
		c.metrics = url
	}
	return c
}

// do sends one command and waits for its answer.
func (c *child) do(command string) error {
	if _, err := fmt.Fprintln(c.in, command); err != nil {
		return err
	}
	if !c.out.Scan() {
		return fmt.Errorf("child: no answer to %q", command)
	}
	if c.out.Text() != "ok" {
		return fmt.Errorf("child: %s", c.out.Text())
	}
	return nil
}

func (c *child) scenario(name string, commands ...string) harness.Scenario {
	return harness.Scenario{Name: name, Run: func(context.Context, int) error {
		for _, cmd := range commands {
			if err := c.do(cmd); err != nil {
				return err
			}
		}
		return nil
	}}
}

// holdingServer accepts loopback connections and holds them until the test
// ends.
func holdingServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestExternalTarget watches another process by PID: the harness never
// touches it but through /proc and its metrics URL, and the scenario
// drives it through its standard input.
func TestExternalTarget(t *testing.T) {
	bin := buildLeakyChild(t)
	addr := holdingServer(t)

	t.Run("leaks fds and connections", func(t *testing.T) {
		c := startChild(t, bin, "-metrics")
		target := harness.Process(c.cmd.Process.Pid).WithMetricsURL(c.metrics)
		res, err := harness.Run(t.Context(), c.scenario("leaky child", "fd", "conn "+addr), harness.WithTarget(target))
		require.NoError(t, err)
		require.Equal(t, harness.StatusLeak, res.Status, report(res))
		require.False(t, res.Target.Self)
		require.Equal(t, c.cmd.Process.Pid, res.Target.PID)

		fds, _ := res.Metric(harness.MetricFDs)
		require.Equal(t, harness.VerdictFail, fds.Verdict)
		require.Equal(t, 100.0, fds.Delta, "a file and a socket per iteration")
		conns, _ := res.Metric(harness.MetricConns)
		require.Equal(t, harness.VerdictFail, conns.Verdict)
		require.Equal(t, 50.0, conns.Delta)
		require.True(t, conns.Steady)
		g, _ := res.Metric(harness.MetricGoroutines)
		require.True(t, g.Supported, "from the metrics URL")
		require.Equal(t, harness.VerdictPass, g.Verdict, report(res))
		heap, _ := res.Metric(harness.MetricHeap)
		require.True(t, heap.Supported, "from the metrics URL")

		var fdSummaries, connSummaries []string
		for _, f := range res.FindingsFor(harness.MetricFDs) {
			if f.Summary == "file /dev/null" {
				require.Equal(t, 50, f.Count)
			}
			fdSummaries = append(fdSummaries, f.Summary)
		}
		require.Contains(t, fdSummaries, "file /dev/null")
		for _, f := range res.FindingsFor(harness.MetricConns) {
			connSummaries = append(connSummaries, fmt.Sprintf("%d × %s", f.Count, f.Summary))
		}
		require.Equal(t, []string{"50 × ESTABLISHED to " + addr}, connSummaries)
	})

	t.Run("leaks goroutines", func(t *testing.T) {
		c := startChild(t, bin, "-metrics")
		target := harness.Process(c.cmd.Process.Pid).WithMetricsURL(c.metrics)
		res, err := harness.Run(t.Context(), c.scenario("goroutines", "goroutine"),
			harness.WithTarget(target), harness.WithIterations(10), harness.WithSettleTimeout(100*time.Millisecond))
		require.NoError(t, err)
		g, _ := res.Metric(harness.MetricGoroutines)
		require.Equal(t, harness.VerdictFail, g.Verdict, report(res))
		require.Equal(t, 10.0, g.Delta)
	})

	t.Run("clean", func(t *testing.T) {
		c := startChild(t, bin, "-metrics")
		target := harness.Process(c.cmd.Process.Pid).WithMetricsURL(c.metrics)
		for i := range cleanRuns() {
			res, err := harness.Run(t.Context(), c.scenario("clean child", "fd-close", "conn-close "+addr), harness.WithTarget(target))
			require.NoError(t, err)
			require.True(t, res.Passed(), "run %d:\n%s", i+1, report(res))
		}
	})

	t.Run("without metrics URL", func(t *testing.T) {
		c := startChild(t, bin)
		res, err := harness.Run(t.Context(), c.scenario("no metrics", "fd"),
			harness.WithTarget(harness.Process(c.cmd.Process.Pid)), harness.WithIterations(5), harness.WithSettleTimeout(0))
		require.NoError(t, err)
		for _, name := range []string{harness.MetricGoroutines, harness.MetricHeap} {
			m, _ := res.Metric(name)
			require.Equal(t, harness.VerdictUnsupported, m.Verdict, name)
		}
		require.Equal(t, -1, res.Final.Goroutines)
		fds, _ := res.Metric(harness.MetricFDs)
		require.Equal(t, harness.VerdictFail, fds.Verdict, report(res))
	})

	t.Run("target exits", func(t *testing.T) {
		c := startChild(t, bin)
		sc := harness.Scenario{Name: "exiting", Run: func(_ context.Context, i int) error {
			if i == 3 {
				fmt.Fprintln(c.in, "exit")
				c.cmd.Wait()
				return nil
			}
			return c.do("fd-close")
		}}
		res, err := harness.Run(t.Context(), sc, harness.WithTarget(harness.Process(c.cmd.Process.Pid)), harness.WithWarmup(1))
		require.ErrorIs(t, err, harness.ErrTargetExited)
		require.ErrorContains(t, err, "process exited")
		require.Equal(t, harness.StatusError, res.Status)
	})

	t.Run("sampler", func(t *testing.T) {
		c := startChild(t, bin, "-metrics")
		s, err := harness.NewSampler(t.Context(),
			harness.WithTarget(harness.Process(c.cmd.Process.Pid).WithMetricsURL(c.metrics)))
		require.NoError(t, err)
		defer s.Close()
		before, err := s.Sample(t.Context())
		require.NoError(t, err)
		require.NoError(t, c.do("fd"))
		require.NoError(t, c.do("conn "+addr))
		after, err := s.Sample(t.Context())
		require.NoError(t, err)
		d := after.Sub(before)
		require.Equal(t, 2.0, d[harness.MetricFDs])
		require.Equal(t, 1.0, d[harness.MetricConns])
		require.Positive(t, after.Goroutines, "from the metrics URL")

		fmt.Fprintln(c.in, "exit")
		c.cmd.Wait()
		_, err = s.Sample(t.Context())
		require.ErrorIs(t, err, harness.ErrTargetExited)
	})
}
