package providertest

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/providers"
)

// Testdata returns the contents of testdata/name in the calling package
// (go test runs a package's tests in its directory), for the files that
// testdata/upstream at the module root has no recording of.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// EnvOrSkip returns the values of the environment variables vars, skipping
// the test unless every one is set. A var written NAME=value must hold that
// value. Tests against the real APIs use it: no other test may need the
// internet or credentials.
func EnvOrSkip(t testing.TB, vars ...string) []string {
	t.Helper()
	vals := make([]string, len(vars))
	ok := true
	for i, v := range vars {
		name, want, exact := strings.Cut(v, "=")
		vals[i] = os.Getenv(name)
		ok = ok && vals[i] != "" && (!exact || vals[i] == want)
	}
	if !ok {
		list := strings.Join(vars, ", ")
		if i := strings.LastIndex(list, ", "); i >= 0 {
			list = list[:i] + " and " + list[i+2:]
		}
		t.Skip(list + " not set")
	}
	return vals
}

// BenchParse benchmarks parse on body and reports, besides throughput,
// the allocations per decoded item as "allocs/<unit>" (items of them in
// body: bars, posts, …). parse must succeed.
func BenchParse(b *testing.B, body []byte, items int, unit string, parse func([]byte) error) {
	b.Helper()
	if err := parse(body); err != nil {
		b.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() { _ = parse(body) })
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := parse(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(allocs/float64(items), "allocs/"+unit)
}

// ParseErr adapts a parser to BenchParse, which needs only its error.
func ParseErr[T any](parse func([]byte) (T, error)) func([]byte) error {
	return func(body []byte) error {
		_, err := parse(body)
		return err
	}
}

// RequireSaneBars fails the test unless every bar is in UTC, strictly after
// the one before, and holds finite prices and volume.
func RequireSaneBars(t testing.TB, bars []providers.Bar) {
	t.Helper()
	for i, b := range bars {
		if b.Time.Location() != time.UTC {
			t.Fatalf("bar %d not UTC", i)
		}
		if i > 0 && !b.Time.After(bars[i-1].Time) {
			t.Fatalf("bar %d not after bar %d", i, i-1)
		}
		for _, v := range []float64{b.Open, b.High, b.Low, b.Close, b.Volume} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("bar %d holds %v", i, v)
			}
		}
	}
}

// RequireStatus fails the test unless err is a *providers.StatusError of
// provider with the given HTTP status or, when status is 0, unless err is
// no *providers.StatusError at all.
func RequireStatus(t testing.TB, err error, provider string, status int) {
	t.Helper()
	var se *providers.StatusError
	if status == 0 {
		require.False(t, errors.As(err, &se), "want no status error, got %v", err)
		return
	}
	require.ErrorAs(t, err, &se)
	require.Equal(t, status, se.Status)
	require.Equal(t, provider, se.Provider)
}

// RequireBarsOrError fails the test unless a bar parser kept its contract:
// either err wraps one of kinds and bars is nil, or err is nil and bars is
// non-empty and sane (RequireSaneBars).
func RequireBarsOrError(t testing.TB, bars []providers.Bar, err error, kinds ...error) {
	t.Helper()
	if err != nil {
		require.True(t, slices.ContainsFunc(kinds, func(k error) bool { return errors.Is(err, k) }), "untyped error: %v", err)
		require.Nil(t, bars)
		return
	}
	require.NotEmpty(t, bars)
	RequireSaneBars(t, bars)
}

// SeedUpstream adds to f's corpus every recorded answer of provider in
// testdata/upstream at the module root, then bodies.
func SeedUpstream(f *testing.F, provider string, bodies ...string) {
	f.Helper()
	dir := filepath.Join(moduleRoot(f), "testdata", "upstream", provider)
	entries, err := os.ReadDir(dir)
	require.NoError(f, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range bodies {
		f.Add([]byte(s))
	}
}
