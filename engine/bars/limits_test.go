package bars

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// endless yields its pattern for ever, as /dev/zero or a stuck upstream.
type endless struct {
	pattern string
	off     int
	reads   int
}

func (e *endless) Read(p []byte) (int, error) {
	e.reads++
	for i := range p {
		p[i] = e.pattern[e.off]
		e.off = (e.off + 1) % len(e.pattern)
	}
	return len(p), nil
}

func TestLoadCSVLimits(t *testing.T) {
	rows := "Date,Open,High,Low,Close\n" + strings.Repeat("2016-01-04,1,2,0.5,1.5\n", 200)
	tests := []struct {
		name    string
		give    io.Reader
		lim     Limits
		wantErr error
		wantMsg string
	}{
		{name: "zeros", give: &endless{pattern: "\x00"}, wantErr: ErrLineTooLong, wantMsg: "longer than"},
		{name: "one endless line", give: &endless{pattern: "Date,Open,High,Low,Close,"}, wantErr: ErrLineTooLong},
		{name: "endless valid rows", give: io.MultiReader(strings.NewReader("Date,Open,High,Low,Close\n"),
			&endless{pattern: "2016-01-04,1,2,0.5,1.5\n"}), lim: Limits{MaxBytes: 1 << 20}, wantErr: ErrTooLarge, wantMsg: "1 MiB"},
		{name: "over the cap", give: strings.NewReader(rows), lim: Limits{MaxBytes: 1000}, wantErr: ErrTooLarge},
		{name: "long line", give: strings.NewReader("Date,Open,High,Low,Close\n2016-01-04," + strings.Repeat("1", 200) + ",2,0.5,1.5\n"),
			lim: Limits{MaxLineBytes: 100}, wantErr: ErrLineTooLong},
		{name: "long quoted field", give: strings.NewReader("Date,Open,High,Low,Close\n\"" + strings.Repeat("x", 5000)),
			lim: Limits{MaxLineBytes: 100}, wantErr: ErrLineTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := LoadCSVContext(t.Context(), tt.give, tt.lim)
				done <- err
			}()
			select {
			case err := <-done:
				require.ErrorIs(t, err, tt.wantErr)
				require.Contains(t, err.Error(), tt.wantMsg)
			case <-time.After(10 * time.Second):
				t.Fatal("LoadCSVContext did not stop at its limit")
			}
		})
	}

	// Exactly at the cap is fine.
	bs, err := LoadCSVContext(t.Context(), strings.NewReader(rows), Limits{MaxBytes: int64(len(rows))})
	require.NoError(t, err)
	require.Len(t, bs, 200)
}

// TestLoadCSVCanceled: canceling the context ends a read that would go on
// for ever within a second.
func TestLoadCSVCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r := io.MultiReader(strings.NewReader("Date,Open,High,Low,Close\n"), &endless{pattern: "2016-01-04,1,2,0.5,1.5\n"})
	done := make(chan error, 1)
	go func() {
		_, err := LoadCSVContext(ctx, r, Limits{MaxBytes: 1 << 40})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.Less(t, time.Since(start), time.Second)
		require.True(t, errors.Is(err, context.Canceled), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("LoadCSVContext did not stop on cancellation")
	}
}

// FuzzLoadCSV: no input makes LoadCSV panic, hang or exceed its bounds.
func FuzzLoadCSV(f *testing.F) {
	for _, s := range []string{
		"", "\x00\x00\x00\x00", "Date,Open,High,Low,Close\n2016-01-04,1,2,0.5,1.5\n",
		"Date,Open,High,Low,Close,Volume\n2016-01-04,NaN,2,0.5,1.5,10\n",
		"Date,Open,High,Low,Close\n2016-01-04,Inf,-Inf,0.5,1e309\n",
		"Date,Open,High,Low,Close\n\"2016-01-04\n,1,2,0.5,1.5\n",
		"time,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n1451865600,1,2,0.5,1.5,1,2,0.5,1.5\n",
		"\ufeffdate,open,high,low,close\n20160104 09:30,1,2,0.5,1.5\n1451865600000,1,2,0.5,1.5\n",
		"Date,Open,High,Low,Close\n" + strings.Repeat("9", 300) + ",1,2,0.5,1.5\n",
		"Date,Date,Open,High,Low,Close\n,,,,,\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lim := Limits{MaxBytes: 4096, MaxLineBytes: 256}
		bs, err := LoadCSVContext(t.Context(), strings.NewReader(s), lim)
		if len(s) > int(lim.MaxBytes) {
			require.Error(t, err)
		}
		if err != nil {
			require.Nil(t, bs)
			return
		}
		for _, b := range bs {
			for _, v := range []float64{b.Open, b.High, b.Low, b.Close, b.Volume} {
				require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "non-finite value from %q", s)
			}
		}
	})
}
