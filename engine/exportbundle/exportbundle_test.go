package exportbundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newStore(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, dir
}

func sum(data string) string {
	h := sha256.Sum256([]byte(data))
	return hex.EncodeToString(h[:])
}

func visible(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestValidName(t *testing.T) {
	tests := []struct {
		give string
		ok   bool
	}{
		{give: "job-0123abc", ok: true},
		{give: "bars_BTC-USD.csv", ok: true},
		{give: "EUR_USD.json", ok: true},
		{give: "BRK.B", ok: true},
		{give: strings.Repeat("a", MaxNameLen), ok: true},
		{give: strings.Repeat("a", MaxNameLen+1)},
		{give: ""},
		{give: "."},
		{give: ".."},
		{give: "../etc"},
		{give: "a/../b"},
		{give: "a/b"},
		{give: `a\b`},
		{give: "a..b"},
		{give: ".hidden"},
		{give: "-flag"},
		{give: "_x"},
		{give: "a b"},
		{give: "a\x00b"},
		{give: "%2e%2e"},
		{give: "é"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			err := ValidName(tt.give)
			require.Equal(t, tt.ok, err == nil, "err: %v", err)
			require.Equal(t, !tt.ok, errors.Is(err, ErrInvalidName))
		})
	}
}

func TestCommitWritesManifestWithChecksums(t *testing.T) {
	c := &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s, dir := newStore(t, WithClock(c.now))

	b, err := s.Create("exp1")
	require.NoError(t, err)
	_, err = b.AddBytes("a.csv", ContentTypeCSV, []byte("x,y\n1,2\n"))
	require.NoError(t, err)
	_, err = b.AddBytes("b.json", ContentTypeJSON, []byte(`{"k":1}`))
	require.NoError(t, err)

	// Nothing is visible before Commit.
	_, err = s.Manifest("exp1")
	require.ErrorIs(t, err, ErrNotFound)
	list, err := s.List()
	require.NoError(t, err)
	require.Empty(t, list)

	m, err := b.Commit(map[string]string{"job": "j1"})
	require.NoError(t, err)
	want := Manifest{
		Version: ManifestVersion, ID: "exp1", Created: c.t, Labels: map[string]string{"job": "j1"},
		Files: []File{
			{Name: "a.csv", Size: 8, SHA256: sum("x,y\n1,2\n"), ContentType: ContentTypeCSV},
			{Name: "b.json", Size: 7, SHA256: sum(`{"k":1}`), ContentType: ContentTypeJSON},
		},
	}
	require.Equal(t, want, m)

	got, err := s.Manifest("exp1")
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, []string{"exp1"}, visible(t, dir))
	require.ElementsMatch(t, []string{"a.csv", "b.json", ManifestName}, visible(t, filepath.Join(dir, "exp1")))

	for _, f := range want.Files {
		r, entry, err := s.OpenFile("exp1", f.Name)
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, r.Close())
		require.NoError(t, err)
		require.Equal(t, f, entry)
		require.Equal(t, f.SHA256, sum(string(data)))
	}
	r, entry, err := s.OpenFile("exp1", ManifestName)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.Equal(t, ManifestName, entry.Name)
	require.Positive(t, entry.Size)

	_, err = b.AddBytes("late.txt", "text/plain", nil)
	require.ErrorIs(t, err, ErrDone)
	_, err = b.Commit(nil)
	require.ErrorIs(t, err, ErrDone)
	require.NoError(t, b.Abort())
}

func TestBundleErrors(t *testing.T) {
	s, dir := newStore(t)
	b, err := s.Create("e1")
	require.NoError(t, err)
	_, err = b.AddBytes("x.csv", ContentTypeCSV, []byte("1"))
	require.NoError(t, err)
	_, err = b.AddBytes("x.csv", ContentTypeCSV, []byte("2"))
	require.ErrorIs(t, err, ErrDuplicate)
	_, err = b.AddBytes(ManifestName, ContentTypeJSON, []byte("{}"))
	require.ErrorIs(t, err, ErrDuplicate)
	_, err = b.AddBytes("../x", ContentTypeCSV, nil)
	require.ErrorIs(t, err, ErrInvalidName)

	boom := errors.New("boom")
	_, err = b.Add("fail.csv", ContentTypeCSV, func(w io.Writer) error {
		_, _ = io.WriteString(w, "partial")
		return boom
	})
	require.ErrorIs(t, err, boom)
	// The failed file leaves nothing in staging, and its name can be reused.
	_, err = b.AddBytes("fail.csv", ContentTypeCSV, []byte("ok"))
	require.NoError(t, err)

	_, err = b.Commit(nil)
	require.NoError(t, err)
	m, err := s.Manifest("e1")
	require.NoError(t, err)
	require.Len(t, m.Files, 2)
	require.ElementsMatch(t, []string{"x.csv", "fail.csv", ManifestName}, visible(t, filepath.Join(dir, "e1")))

	_, err = s.Create("e1")
	require.ErrorIs(t, err, ErrExists)
	_, err = s.Create("../e1")
	require.ErrorIs(t, err, ErrInvalidName)

	// A second bundle racing for the same id loses at Commit and leaves no
	// staging behind.
	s2, err := s.Create("e2")
	require.NoError(t, err)
	s3, err := s.Create("e2")
	require.NoError(t, err)
	_, err = s2.Commit(nil)
	require.NoError(t, err)
	_, err = s3.Commit(nil)
	require.ErrorIs(t, err, ErrExists)
	require.ElementsMatch(t, []string{"e1", "e2"}, visible(t, dir))
}

func TestAbortLeavesNothing(t *testing.T) {
	s, dir := newStore(t)
	b, err := s.Create("gone")
	require.NoError(t, err)
	_, err = b.AddBytes("a.csv", ContentTypeCSV, []byte("a"))
	require.NoError(t, err)
	require.NoError(t, b.Abort())
	require.NoError(t, b.Abort())
	require.Empty(t, visible(t, dir))
	_, err = b.Commit(nil)
	require.ErrorIs(t, err, ErrDone)
}

func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	b, err := s.Create("half")
	require.NoError(t, err)
	_, err = b.AddBytes("a.csv", ContentTypeCSV, []byte("a"))
	require.NoError(t, err)
	done, err := s.Create("done")
	require.NoError(t, err)
	_, err = done.Commit(nil)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(dir, trashPrefix+"old-x"), 0o750))
	require.NoError(t, s.Close()) // as if the process stopped mid-write

	require.Len(t, visible(t, dir), 3)
	s, err = Open(dir)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, []string{"done"}, visible(t, dir))
}

func TestOpenFileRefusesTraversal(t *testing.T) {
	s, dir := newStore(t)
	b, err := s.Create("exp")
	require.NoError(t, err)
	_, err = b.AddBytes("a.csv", ContentTypeCSV, []byte("a"))
	require.NoError(t, err)
	_, err = b.Commit(nil)
	require.NoError(t, err)

	secret := filepath.Join(filepath.Dir(dir), "secret-"+filepath.Base(dir))
	require.NoError(t, os.WriteFile(secret, []byte("secret"), 0o600))
	t.Cleanup(func() { os.Remove(secret) })
	// A symbolic link planted in a bundle, listed in a forged manifest,
	// still cannot reach outside the root.
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "exp", "link.csv")))
	forged := `{"version":1,"id":"exp","files":[{"name":"link.csv"},{"name":"a.csv"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "exp", ManifestName), []byte(forged), 0o600))

	tests := []struct {
		name     string
		id, file string
		want     error
	}{
		{name: "dotdot id", id: "..", file: "a.csv", want: ErrInvalidName},
		{name: "dotdot file", id: "exp", file: "../exp/a.csv", want: ErrInvalidName},
		{name: "slash file", id: "exp", file: "x/a.csv", want: ErrInvalidName},
		{name: "absolute", id: "exp", file: "/etc/passwd", want: ErrInvalidName},
		{name: "hidden", id: "exp", file: ".tmp-a.csv", want: ErrInvalidName},
		{name: "unlisted", id: "exp", file: "b.csv", want: ErrNotFound},
		{name: "no bundle", id: "nope", file: "a.csv", want: ErrNotFound},
		{name: "symlink out", id: "exp", file: "link.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, err := s.OpenFile(tt.id, tt.file)
			require.Error(t, err)
			require.Nil(t, f)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	s, dir := newStore(t)
	b, err := s.Create("d1")
	require.NoError(t, err)
	_, err = b.AddBytes("a.csv", ContentTypeCSV, []byte("abc"))
	require.NoError(t, err)
	_, err = b.Commit(nil)
	require.NoError(t, err)

	open, _, err := s.OpenFile("d1", "a.csv")
	require.NoError(t, err)
	require.NoError(t, s.Delete("d1"))
	// An open file stays readable after deletion.
	data, err := io.ReadAll(open)
	require.NoError(t, err)
	require.NoError(t, open.Close())
	require.Equal(t, "abc", string(data))

	require.Empty(t, visible(t, dir))
	require.ErrorIs(t, s.Delete("d1"), ErrNotFound)
	require.ErrorIs(t, s.Delete("../d1"), ErrInvalidName)
	_, err = s.Manifest("d1")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name        string
		maxCount    int
		maxAge      time.Duration
		wantRemoved []string
		wantKept    []string
	}{
		{name: "off", wantKept: []string{"b0", "b1", "b2", "b3", "b4"}},
		{name: "count", maxCount: 2, wantRemoved: []string{"b0", "b1", "b2"}, wantKept: []string{"b3", "b4"}},
		{name: "age", maxAge: 210 * time.Minute, wantRemoved: []string{"b0", "b1"}, wantKept: []string{"b2", "b3", "b4"}},
		{name: "both", maxCount: 1, maxAge: 210 * time.Minute, wantRemoved: []string{"b0", "b1", "b2", "b3"}, wantKept: []string{"b4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
			s, _ := newStore(t, WithClock(c.now))
			for _, id := range []string{"b0", "b1", "b2", "b3", "b4"} {
				b, err := s.Create(id)
				require.NoError(t, err)
				_, err = b.Commit(nil)
				require.NoError(t, err)
				c.add(time.Hour)
			}
			// now is 5h after b0: ages are 5h, 4h, 3h, 2h, 1h.
			removed, err := s.Prune(tt.maxCount, tt.maxAge)
			require.NoError(t, err)
			require.Equal(t, tt.wantRemoved, removed)
			list, err := s.List()
			require.NoError(t, err)
			var kept []string
			for _, m := range list {
				kept = append(kept, m.ID)
			}
			require.Equal(t, tt.wantKept, kept)
		})
	}
}

func TestConcurrentAdd(t *testing.T) {
	s, _ := newStore(t)
	b, err := s.Create("par")
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, errs[i] = b.AddBytes("f"+string(rune('a'+i))+".txt", "text/plain", []byte(strings.Repeat("x", i)))
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	m, err := b.Commit(nil)
	require.NoError(t, err)
	require.Len(t, m.Files, 8)
}

func TestFormats(t *testing.T) {
	bars := []providers.Bar{
		{Time: time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), Open: 1.5, High: 2, Low: 1, Close: 1.75, Volume: 1000},
		{Time: time.Date(2020, 1, 3, 0, 0, 0, 0, time.UTC), Open: 1.75, High: 1.8, Low: 1.7, Close: 1.71, Volume: 0},
	}
	var csv strings.Builder
	require.NoError(t, WriteBarsCSV(&csv, bars))
	require.Equal(t, CSVHeader+
		"2020-01-02T00:00:00Z,1.5,2,1,1.75,1000\n"+
		"2020-01-03T00:00:00Z,1.75,1.8,1.7,1.71,0\n", csv.String())

	var js strings.Builder
	require.NoError(t, WriteBarsJSON(&js, "AAPL", providers.Day, bars[:1]))
	require.JSONEq(t, `{"symbol":"AAPL","interval":"1d","count":1,"bars":[
		{"time":"2020-01-02T00:00:00Z","open":1.5,"high":2,"low":1,"close":1.75,"volume":1000}]}`, js.String())

	js.Reset()
	require.NoError(t, WriteBarsJSON(&js, "AAPL", providers.Day, nil))
	require.JSONEq(t, `{"symbol":"AAPL","interval":"1d","count":0,"bars":[]}`, js.String())
}
