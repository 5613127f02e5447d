//go:build unix

// These tests read /dev/zero and a FIFO.

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCSVNeverEnds: a CSV that never ends is cut at the size cap with an
// error naming the file and the flag, and a read is canceled promptly.
func TestCSVNeverEnds(t *testing.T) {
	f := newFFE(t, modeSandbox)
	t.Run("dev zero", func(t *testing.T) {
		start := time.Now()
		msg := f.fail(ExitFailure, "backtest", "AAPL", "--csv", "/dev/zero")
		require.Less(t, time.Since(start), 10*time.Second)
		require.Contains(t, msg, "/dev/zero")
	})
	t.Run("size cap", func(t *testing.T) {
		// Rows that are each fine, more of them than the cap allows.
		p := filepath.Join(t.TempDir(), "big.csv")
		var b strings.Builder
		b.WriteString("Date,Open,High,Low,Close\n")
		for i := 0; b.Len() < 4096; i++ {
			b.WriteString("2016-01-04,1,2,0.5,1.5\n")
		}
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
		msg := f.fail(ExitFailure, "backtest", "AAPL", "--csv", p, "--csv-max-bytes", "1024")
		require.Contains(t, msg, p)
		require.Contains(t, msg, "--csv-max-bytes")
	})
	t.Run("interrupted", func(t *testing.T) {
		// A FIFO whose writer sent the header and then nothing: the read
		// blocks until the command is canceled.
		p := filepath.Join(t.TempDir(), "fifo.csv")
		require.NoError(t, syscall.Mkfifo(p, 0o600))
		w, err := os.OpenFile(p, os.O_RDWR, 0) // does not wait for a reader
		require.NoError(t, err)
		defer w.Close()
		_, err = w.WriteString("Date,Open,High,Low,Close\n")
		require.NoError(t, err)
		ctx, cancel := context.WithCancelCause(t.Context())
		done := make(chan result, 1)
		go func() { done <- f.runCtx(ctx, "backtest", "AAPL", "--csv", p) }()
		time.Sleep(300 * time.Millisecond) // the engine opens and the read starts
		start := time.Now()
		cancel(&SignalError{Signal: syscall.SIGTERM})
		select {
		case r := <-done:
			require.Less(t, time.Since(start), time.Second)
			require.Equal(t, 143, r.code, r)
			require.Contains(t, r.stderr, "interrupted")
		case <-time.After(10 * time.Second):
			t.Fatal("backtest did not stop after cancellation")
		}
	})
}
