package harness

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestThresholdEval(t *testing.T) {
	v := values{baseline: 10, final: 12, delta: 2, max: 15, min: 9, slope: 6 << 10, tail: 1, tailSlope: 3 << 10, released: 3}
	tests := []struct {
		metric    string
		give      string
		wantLimit float64
		want      bool
	}{
		{"goroutines", "delta<=0", 0, false},
		{"goroutines", "delta<=2", 2, true},
		{"goroutines", "delta < 2", 2, false},
		{"goroutines", "max<200", 200, true},
		{"goroutines", "max>=15", 15, true},
		{"goroutines", "min>9", 9, false},
		{"goroutines", "final<=baseline+2", 12, true},
		{"goroutines", "final <= baseline + 1", 11, false},
		{"goroutines", "final<baseline-1+4", 13, true},
		{"goroutines", "final==12", 12, true},
		{"goroutines", "final!=12", 12, false},
		{"goroutines", "delta<=20%", 2, true},
		{"goroutines", "delta>-5", -5, true},
		{"goroutines", "delta>=1e1", 10, false},
		{"goroutines", "tail<=0", 0, false},
		{"goroutines", "tail<=1", 1, true},
		{"goroutines", "tail < delta", 2, true},
		{"goroutines", "final<=baseline+tail", 11, false},
		{"heap", "tail_slope<4KiB", 4 << 10, true},
		{"heap", "tail_slope<2KiB", 2 << 10, false},
		{"heap", "slope<=tail_slope+3KiB", 6 << 10, true},
		{"fds", "released<=0", 0, false},
		{"fds", "released<=3", 3, true},
		{"heap", "slope<8KiB", 8 << 10, true},
		{"heap", "slope<8kib", 8 << 10, true},
		{"heap", "slope<6KiB", 6 << 10, false},
		{"heap", "slope<=6KiB", 6 << 10, true},
		{"heap", "slope<4KB", 4000, false},
		{"rss", "delta<50MB", 50e6, true},
		{"rss", "delta<1MiB", 1 << 20, true},
		{"rss", "delta<2B", 2, false},
		{"rss", "delta<1GiB", 1 << 30, true},
		{"rss", "delta<0.5GB", 0.5e9, true},
		{"cache_bytes", "final<1MiB", 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.metric+" "+tt.give, func(t *testing.T) {
			th, err := ParseThreshold(tt.metric, tt.give)
			require.NoError(t, err)
			_, limit, ok := th.eval(v)
			require.Equal(t, tt.wantLimit, limit)
			require.Equal(t, tt.want, ok)
		})
	}
}

func TestThresholdEvalNaN(t *testing.T) {
	th, err := ParseThreshold("heap", "slope<8KiB")
	require.NoError(t, err)
	actual, _, ok := th.eval(values{slope: math.NaN()})
	require.True(t, math.IsNaN(actual))
	require.False(t, ok)
}

func TestThresholdErrors(t *testing.T) {
	tests := []struct {
		metric    string
		give      string
		wantToken string
		wantErr   string
	}{
		{"goroutines", "", "", `harness: threshold on goroutines "": empty expression`},
		{"goroutines", "   ", "", `harness: threshold on goroutines "   ": empty expression`},
		{"goroutines", "avg<2", "avg", `harness: threshold on goroutines "avg<2": unknown statistic "avg" (want baseline, final, delta, max, min, slope, tail, tail_slope, released)`},
		{"goroutines", "<2", "<2", `harness: threshold on goroutines "<2": expected a statistic (baseline, final, delta, max, min, slope, tail, tail_slope, released), found "<2"`},
		{"goroutines", "delta", "", `harness: threshold on goroutines "delta": missing comparison after "delta" (want <, <=, >, >=, == or !=)`},
		{"goroutines", "delta 2", "2", `harness: threshold on goroutines "delta 2": unknown comparison "2" (want <, <=, >, >=, == or !=)`},
		{"goroutines", "delta=0", "=", `harness: threshold on goroutines "delta=0": unknown comparison "=" (want <, <=, >, >=, == or !=)`},
		{"goroutines", "delta=<0", "=<", `harness: threshold on goroutines "delta=<0": unknown comparison "=<" (want <, <=, >, >=, == or !=)`},
		{"goroutines", "delta<<0", "<<", `harness: threshold on goroutines "delta<<0": unknown comparison "<<" (want <, <=, >, >=, == or !=)`},
		{"goroutines", "delta<=", "", `harness: threshold on goroutines "delta<=": missing value after "<="`},
		{"goroutines", "final<=baseline+", "", `harness: threshold on goroutines "final<=baseline+": missing value after "+"`},
		{"goroutines", "delta<=1.2.3", "1.2.3", `harness: threshold on goroutines "delta<=1.2.3": bad number "1.2.3"`},
		{"goroutines", "delta<=x", "x", `harness: threshold on goroutines "delta<=x": unknown statistic "x" (want a number or baseline, final, delta, max, min, slope, tail, tail_slope, released)`},
		{"goroutines", "delta<=@", "@", `harness: threshold on goroutines "delta<=@": expected a number or statistic, found "@"`},
		{"goroutines", "delta<=-", "-", `harness: threshold on goroutines "delta<=-": expected a number or statistic, found "-"`},
		{"goroutines", "delta<=2 3", "3", `harness: threshold on goroutines "delta<=2 3": unexpected "3" after the value (want + or -)`},
		{"goroutines", "delta<=2*baseline", "*baseline", `harness: threshold on goroutines "delta<=2*baseline": unexpected "*baseline" after the value (want + or -)`},
		{"goroutines", "delta<=2KiB", "KiB", `harness: threshold on goroutines "delta<=2KiB": byte unit "KiB" on goroutines, which is a count`},
		{"heap", "slope<8KX", "KX", `harness: threshold on heap "slope<8KX": unknown unit "KX" (want B, KB, KiB, MB, MiB, GB, GiB or %)`},
		{"heap", "slope<8 KiB", "KiB", `harness: threshold on heap "slope<8 KiB": unexpected "KiB" after the value (want + or -)`},
		{"rss", "delta<1e400", "1e400", `harness: threshold on rss "delta<1e400": bad number "1e400"`},
	}
	for _, tt := range tests {
		t.Run(tt.metric+" "+tt.give, func(t *testing.T) {
			_, err := ParseThreshold(tt.metric, tt.give)
			require.EqualError(t, err, tt.wantErr)
			var te *ThresholdError
			require.ErrorAs(t, err, &te)
			require.Equal(t, tt.metric, te.Metric)
			require.Equal(t, tt.give, te.Expr)
			require.Equal(t, tt.wantToken, te.Token)
		})
	}
}

func TestThresholdOnMissingMetric(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
	}{
		{
			name:    "unknown metric",
			opts:    []Option{WithThreshold("gorutines", "delta<=0")},
			wantErr: "harness: threshold on gorutines: unknown metric (want goroutines, goroutines_leaked, fds, conns, threads, children, rss, heap, unclosed or an added probe)",
		},
		{
			name:    "switched off",
			opts:    []Option{WithoutProbes(MetricThreads), WithThreshold(MetricThreads, "delta<=0")},
			wantErr: "harness: threshold on threads: the metric is switched off by WithoutProbes",
		},
		{
			name:    "unclosed without its probe",
			opts:    []Option{WithThreshold(MetricUnclosed, "delta<=0")},
			wantErr: "harness: threshold on unclosed: the metric needs a probe (WithProbes(Unclosed(f)))",
		},
		{
			name:    "syntax",
			opts:    []Option{WithThreshold(MetricHeap, "slope<8KX")},
			wantErr: `harness: threshold on heap "slope<8KX": unknown unit "KX" (want B, KB, KiB, MB, MiB, GB, GiB or %)`,
		},
		{
			name:    "not measured on the target",
			opts:    []Option{WithTarget(Process(1)), WithThreshold(MetricHeap, "slope<8KiB")},
			wantErr: "harness: threshold on heap: the metric is not measured on this target: no metrics URL for pid 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			res, err := Run(t.Context(), Scenario{Name: "x", Run: func(_ context.Context, _ int) error {
				called = true
				return nil
			}}, tt.opts...)
			require.EqualError(t, err, tt.wantErr)
			require.Nil(t, res)
			require.False(t, called, "a bad threshold stops the run before it starts")
		})
	}
}

func TestDefaultThresholdsParse(t *testing.T) {
	for _, name := range BuiltinMetrics() {
		exprs := DefaultThresholds(name)
		require.NotEmpty(t, exprs, name)
		for _, e := range exprs {
			_, err := ParseThreshold(name, e)
			require.NoError(t, err)
		}
	}
	require.Nil(t, DefaultThresholds("cache"))
}
