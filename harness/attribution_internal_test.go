package harness

import (
	"context"
	"runtime/pprof"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountProfile(t *testing.T) {
	const text = `goroutine profile: total 7
3 @ 0x1 0x2
# labels: {"leakgate.run":"a#1"}
#	0x1	main.f+0x1	/x.go:1

2 @ 0x1 0x3
# labels: {"k":"v", "leakgate.run":"a#10"}
#	0x1	main.f+0x1	/x.go:1

1 @ 0x4
# labels: {"k":"\"leakgate.run\":\"a#1\"", "leakgate.run":"a#1"}

1 @ 0x5
`
	tests := []struct {
		name    string
		give    string
		key     string
		want    int
		wantErr string
	}{
		{name: "total", give: text, key: "", want: 7},
		{name: "labelled", give: text, key: `"leakgate.run":"a#1"`, want: 4},
		{name: "another run", give: text, key: `"leakgate.run":"a#10"`, want: 2},
		{name: "absent", give: text, key: `"leakgate.run":"b#1"`, want: 0},
		{name: "empty", give: "", wantErr: "empty profile"},
		{name: "not a profile", give: "hello\n", wantErr: "unexpected first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := countProfile([]byte(tt.give), tt.key)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCountLabelledGoroutines(t *testing.T) {
	s := &sampler{self: true}
	_, err := s.attribute("count", options{attribution: attributionOn})
	require.NoError(t, err)
	stop := make(chan struct{})
	done := make(chan struct{}, 3)
	pprof.Do(context.Background(), pprof.Labels(LabelRun, s.attrLabel), func(context.Context) {
		for range 3 {
			go func() { <-stop; done <- struct{}{} }()
		}
	})
	defer func() {
		close(stop)
		for range 3 {
			<-done
		}
	}()
	n, err := s.goroutineCount()
	require.NoError(t, err)
	require.Equal(t, 3.0, n)

	gs, err := (&sampler{self: true, idx: map[string]int{MetricGoroutines: 0}, defs: []*metricDef{{name: MetricGoroutines}}, attrLabel: s.attrLabel}).goroutines()
	require.NoError(t, err)
	require.Len(t, gs, 3, "the dump keeps the labelled goroutines")
}

func TestInParallel(t *testing.T) {
	t.Run("serial", func(t *testing.T) {
		require.False(t, inParallel(t))
	})
	t.Run("parallel", func(t *testing.T) {
		t.Parallel()
		require.True(t, inParallel(t))
		t.Run("subtest of a parallel test", func(t *testing.T) {
			require.True(t, inParallel(t))
		})
	})
	t.Run("own TestingT", func(t *testing.T) {
		require.False(t, inParallel(struct{ TestingT }{t}))
	})
}

func TestHasSetting(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"", false},
		{"tracebacklabels=1", true},
		{"x=1, tracebacklabels=1", true},
		{"tracebacklabels=1,tracebacklabels=0", false},
		{"tracebacklabels=0", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, hasSetting(tt.give, tracebackLabelsOn), tt.give)
	}
}
