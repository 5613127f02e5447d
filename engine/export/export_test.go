package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/export/exporttest"
	"github.com/leakgate/leakgate/engine/exportbundle"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/store"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/sandbox"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.DiscardHandler)

var now = time.Date(2017, 1, 2, 0, 0, 0, 0, time.UTC)

func TestResolve(t *testing.T) {
	yes, no := true, false
	d := Defaults{Symbols: []string{"AAPL", "btc/usd"}, Range: "1y", Interval: providers.Day, Crew: true}
	tests := []struct {
		name      string
		give      Request
		want      Spec
		wantField []string
	}{
		{name: "defaults", give: Request{}, want: Spec{Symbols: []string{"AAPL", "BTC-USD"}, Range: "1y",
			From: now.AddDate(-1, 0, 0), To: now, Relative: true, Interval: providers.Day, Formats: []string{"csv", "json"}, Crew: true}},
		{name: "explicit", give: Request{Symbols: []string{"eurusd", "SPY", "spy"}, Range: "2016-01-01/2016-06-30",
			Interval: "1w", Formats: []string{"JSON"}, Crew: &no},
			want: Spec{Symbols: []string{"EUR_USD", "SPY"}, Range: "2016-01-01/2016-06-30",
				From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2016, 6, 30, 23, 59, 59, 999999999, time.UTC),
				Interval: providers.Week, Formats: []string{"json"}, Crew: false}},
		{name: "crew on", give: Request{Crew: &yes, Formats: []string{"csv", "csv"}}, want: Spec{Symbols: []string{"AAPL", "BTC-USD"},
			Range: "1y", From: now.AddDate(-1, 0, 0), To: now, Relative: true, Interval: providers.Day, Formats: []string{"csv"}, Crew: true}},
		{name: "too many symbols", give: Request{Symbols: make([]string, MaxSymbols+1)}, wantField: []string{"symbols"}},
		{name: "bad symbols", give: Request{Symbols: []string{"AAPL", "../etc", ""}}, wantField: []string{"symbols[1]", "symbols[2]"}},
		{name: "bad range", give: Request{Range: "forever"}, wantField: []string{"range"}},
		{name: "bad interval", give: Request{Interval: "3s"}, wantField: []string{"interval"}},
		{name: "unknown format", give: Request{Formats: []string{"csv", "xlsx"}}, wantField: []string{"formats[1]"}},
		{name: "several", give: Request{Range: "x", Formats: []string{"pdf"}}, wantField: []string{"range", "formats[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.give.Resolve(d, now)
			var fields []string
			for _, fe := range FieldErrors(err) {
				fields = append(fields, fe.Field)
			}
			require.Equal(t, tt.wantField, fields, "err: %v", err)
			require.Equal(t, tt.want, got)
		})
	}
	_, err := Request{}.Resolve(Defaults{}, now)
	require.Equal(t, "symbols", FieldErrors(err)[0].Field)
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		give     string
		from, to time.Time
		wantErr  bool
	}{
		{give: "", from: now.AddDate(-1, 0, 0), to: now},
		{give: "5d", from: now.AddDate(0, 0, -5), to: now},
		{give: "2w", from: now.AddDate(0, 0, -14), to: now},
		{give: "6MO", from: now.AddDate(0, -6, 0), to: now},
		{give: "ytd", from: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), to: now},
		{give: "max", from: now.AddDate(-100, 0, 0), to: now},
		{give: "2016-02-01/2016-02-01", from: time.Date(2016, 2, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2016, 2, 1, 23, 59, 59, 999999999, time.UTC)},
		{give: "2016-02-02/2016-02-01", wantErr: true},
		{give: "2016-02-30/2016-03-01", wantErr: true},
		{give: "0d", wantErr: true},
		{give: "101y", wantErr: true},
		{give: "1h", wantErr: true},
		{give: "-1y", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			from, to, err := ParseRange(tt.give, now)
			require.Equal(t, tt.wantErr, err != nil, "err: %v", err)
			require.Equal(t, tt.from, from)
			require.Equal(t, tt.to, to)
		})
	}
}

// fakeMD serves generated bars; symbols in fail answer err.
type fakeMD struct {
	fail      map[string]error
	block     chan struct{} // if set, Bars waits for it or the context
	quoteTime time.Time     // the time of every quote; zero: no quotes
	mu        sync.Mutex
	calls     int
	queries   []providers.BarQuery
}

func (f *fakeMD) Name() string                    { return "fake" }
func (f *fakeMD) Classes() []providers.AssetClass { return []providers.AssetClass{providers.Equity} }
func (f *fakeMD) Close() error                    { return nil }
func (f *fakeMD) Quote(_ context.Context, sym string) (providers.Quote, error) {
	if f.quoteTime.IsZero() {
		return providers.Quote{}, providers.ErrUnsupported
	}
	return providers.Quote{Symbol: sym, Price: 1, Time: f.quoteTime}, nil
}

func (f *fakeMD) Bars(ctx context.Context, q providers.BarQuery) ([]providers.Bar, error) {
	f.mu.Lock()
	f.calls++
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := f.fail[q.Symbol]; err != nil {
		return nil, err
	}
	bars := make([]providers.Bar, 60)
	for i := range bars {
		c := 100 + float64(i)
		bars[i] = providers.Bar{Time: q.From.AddDate(0, 0, i), Open: c, High: c + 1, Low: c - 1, Close: c, Volume: 10}
	}
	return bars, nil
}

type fakePosts struct{ err error }

func (f fakePosts) Name() string { return "fakeposts" }
func (f fakePosts) Close() error { return nil }
func (f fakePosts) Posts(_ context.Context, q providers.PostQuery) ([]providers.Post, error) {
	if f.err != nil {
		return nil, f.err
	}
	return []providers.Post{
		{ID: "1", Subreddit: q.Subreddit, Title: "$AAPL to the moon, very bullish", Score: 10},
		{ID: "2", Subreddit: q.Subreddit, Title: "$SPY puts, crash incoming", Score: 3},
	}, nil
}

// recorder is a Progress that keeps the last state of each item.
type recorder struct {
	mu    sync.Mutex
	items []string
	state map[string]jobs.ItemState
}

func (r *recorder) Init(names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items, r.state = names, map[string]jobs.ItemState{}
}

func (r *recorder) Set(name string, s jobs.ItemState, _ string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state[name] = s
}

func spec(symbols ...string) Spec {
	return Spec{Symbols: symbols, Range: "2016-01-01/2016-12-31", From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2016, 12, 31, 23, 59, 59, 0, time.UTC), Interval: providers.Day, Formats: []string{FormatCSV, FormatJSON}, Crew: true}
}

func newStore(t *testing.T) (*exportbundle.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := exportbundle.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, dir
}

// verifyBundle checks every file of the manifest against its size and
// checksum, and that the directory holds nothing else.
func verifyBundle(t *testing.T, dir string, m exportbundle.Manifest) {
	t.Helper()
	names := []string{exportbundle.ManifestName}
	for _, f := range m.Files {
		data, err := os.ReadFile(filepath.Join(dir, m.ID, f.Name))
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		require.Equal(t, f.SHA256, hex.EncodeToString(sum[:]), f.Name)
		require.Equal(t, f.Size, int64(len(data)), f.Name)
		names = append(names, f.Name)
	}
	entries, err := os.ReadDir(filepath.Join(dir, m.ID))
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	require.ElementsMatch(t, names, got)
}

func TestRunWritesBundle(t *testing.T) {
	store, dir := newStore(t)
	cr, err := crew.New()
	require.NoError(t, err)
	md := &fakeMD{fail: map[string]error{"MSFT": providers.ErrNotFound}}
	e, err := New(md, store, WithCrew(cr), WithPosts(fakePosts{}, []string{"stocks", "wallstreetbets"}, 10), WithLogger(quiet))
	require.NoError(t, err)

	rec := &recorder{}
	res, err := e.Run(t.Context(), "job-1", spec("AAPL", "SPY", "MSFT"), rec)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"AAPL": 60, "SPY": 60}, res.Bars)
	require.Equal(t, map[string]string{"MSFT": "not found"}, res.Failed)
	require.True(t, res.Crew)
	require.Equal(t, "4 posts from 2 subreddits", res.Sentiment)
	require.Equal(t, 7, res.Files)
	require.Equal(t, []string{"AAPL", "SPY", "MSFT", ItemSentiment, ItemCrew, ItemBundle}, rec.items)
	require.Equal(t, map[string]jobs.ItemState{"AAPL": jobs.ItemDone, "SPY": jobs.ItemDone, "MSFT": jobs.ItemFailed,
		ItemSentiment: jobs.ItemDone, ItemCrew: jobs.ItemDone, ItemBundle: jobs.ItemDone}, rec.state)

	m, err := store.Manifest("job-1")
	require.NoError(t, err)
	verifyBundle(t, dir, m)
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	require.ElementsMatch(t, []string{"AAPL.csv", "AAPL.json", "SPY.csv", "SPY.json", SentimentFile, ReportJSONFile, ReportMarkdownFile}, names)
	require.Equal(t, "AAPL,SPY", m.Labels["symbols"])
	require.Equal(t, "AAPL:60,SPY:60", m.Labels["bars"])

	var sent SentimentDocument
	data, err := os.ReadFile(filepath.Join(dir, "job-1", SentimentFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &sent))
	require.Equal(t, 4, sent.Posts)
	require.Equal(t, "AAPL", sent.Symbols[0].Symbol)
	require.Positive(t, sent.Symbols[0].Score)
	require.Negative(t, sent.Symbols[1].Score)

	// Running the same id again finds the committed bundle.
	calls := md.calls
	again, err := e.Run(t.Context(), "job-1", spec("AAPL", "SPY", "MSFT"), &recorder{})
	require.NoError(t, err)
	require.True(t, again.Resumed)
	require.Equal(t, res.Bars, again.Bars)
	require.Equal(t, res.Files, again.Files)
	require.Equal(t, res.Bytes, again.Bytes)
	require.Equal(t, calls, md.calls, "a resumed export fetches nothing")
}

func TestRunFailures(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		md      *fakeMD
		posts   providers.PostSource
		spec    Spec
		wantErr string
		wantRes func(t *testing.T, r Result)
	}{
		{name: "every symbol fails", md: &fakeMD{fail: map[string]error{"AAPL": boom, "SPY": providers.ErrNoData}},
			spec: spec("AAPL", "SPY"), wantErr: "no symbol could be fetched: AAPL: boom; SPY: no data"},
		{name: "sentiment fails", md: &fakeMD{}, posts: fakePosts{err: providers.ErrRateLimited}, spec: spec("AAPL"),
			wantRes: func(t *testing.T, r Result) {
				require.Equal(t, "skipped: rate limited", r.Sentiment)
				require.Equal(t, 4, r.Files) // csv, json and the crew report in two forms
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, dir := newStore(t)
			cr, err := crew.New(crew.WithTasks(crew.Task{Name: "only", Agent: crew.MarketAnalyst}))
			require.NoError(t, err)
			opts := []Option{WithCrew(cr), WithLogger(quiet)}
			if tt.posts != nil {
				opts = append(opts, WithPosts(tt.posts, []string{"stocks"}, 0))
			}
			e, err := New(tt.md, store, opts...)
			require.NoError(t, err)
			res, err := e.Run(t.Context(), "job-x", tt.spec, &recorder{})
			if tt.wantErr != "" {
				require.EqualError(t, err, "export: "+tt.wantErr)
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				require.Empty(t, entries, "a failed export leaves nothing")
				return
			}
			require.NoError(t, err)
			tt.wantRes(t, res)
		})
	}
}

func TestRunCancelledLeavesNothing(t *testing.T) {
	store, dir := newStore(t)
	md := &fakeMD{block: make(chan struct{})}
	e, err := New(md, store, WithLogger(quiet))
	require.NoError(t, err)
	ctx, cancel := context.WithCancelCause(t.Context())
	done := make(chan error)
	go func() {
		_, err := e.Run(ctx, "job-c", spec("AAPL", "SPY"), &recorder{})
		done <- err
	}()
	for {
		md.mu.Lock()
		n := md.calls
		md.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel(jobs.ErrCancelled)
	require.ErrorIs(t, <-done, jobs.ErrCancelled)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestNewRejects(t *testing.T) {
	store, _ := newStore(t)
	_, err := New(nil, store)
	require.Error(t, err)
	_, err = New(&fakeMD{}, nil)
	require.Error(t, err)
	_, err = New(&fakeMD{}, store, WithConcurrency(0))
	require.Error(t, err)
}

// runJob exports spec through a job queue and returns the finished job.
func runJob(t *testing.T, e *Exporter, sp Spec) jobs.Job {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), store.FileName))
	require.NoError(t, err)
	defer db.Close()
	q, err := jobs.Open(t.Context(), db.Jobs(), jobs.WithLogger(quiet))
	require.NoError(t, err)
	q.Handle(Kind, e.Handler())
	require.NoError(t, q.Start())
	defer q.Stop(context.Background()) //nolint:errcheck
	job, err := q.Enqueue(t.Context(), Kind, sp)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	job, err = q.Wait(ctx, job.ID)
	require.NoError(t, err)
	return job
}

// TestExportOverHTTPMock runs a job end to end with the providers' requests
// answered by httpmock, whose responder is the sandbox.
func TestExportOverHTTPMock(t *testing.T) {
	h := sandbox.New()
	mock := httpmock.NewMockTransport()
	mock.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result(), nil
	})
	env, err := exporttest.New(exporttest.Config{BaseURL: exporttest.InProcess, Transport: mock})
	require.NoError(t, err)
	defer env.Close()

	store, dir := newStore(t)
	cr, err := crew.New()
	require.NoError(t, err)
	e, err := New(env.MarketData, store, WithCrew(cr), WithPosts(env.Posts, []string{"wallstreetbets"}, 25), WithLogger(quiet))
	require.NoError(t, err)

	job := runJob(t, e, spec("AAPL", "BTC-USD", "EUR_USD"))
	require.Equal(t, jobs.Succeeded, job.State, job.Error)
	require.Equal(t, 6, job.Progress.Done, "three symbols, sentiment, crew and bundle")
	var res Result
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Equal(t, map[string]int{"AAPL": 252, "BTC-USD": 366, "EUR_USD": 306}, res.Bars)
	require.True(t, res.Crew)
	require.NotEmpty(t, res.Sentiment)
	require.NotContains(t, res.Sentiment, "skipped")

	m, err := store.Manifest(job.ID)
	require.NoError(t, err)
	verifyBundle(t, dir, m)
	require.Len(t, m.Files, 9)

	// Every request went through httpmock to the sandbox.
	stats := h.Stats()
	require.GreaterOrEqual(t, stats["polygon"].Requests, int64(3))
	var served int64
	for _, st := range stats {
		served += st.Requests
	}
	require.Equal(t, int64(mock.GetTotalCallCount()), served)

	csv, err := os.Open(filepath.Join(dir, job.ID, "AAPL.csv"))
	require.NoError(t, err)
	defer csv.Close()
	head := make([]byte, len(exportbundle.CSVHeader))
	_, err = io.ReadFull(csv, head)
	require.NoError(t, err)
	require.Equal(t, exportbundle.CSVHeader, string(head))
}

func TestRelativeRangeEndsAtLatestQuote(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	endOf := func(s string) time.Time { return day(s).Add(24*time.Hour - time.Nanosecond) }
	tests := []struct {
		name     string
		rng      string
		quote    time.Time
		from, to time.Time
	}{
		{name: "data ends in the past", rng: "1y", quote: day("2016-06-10").Add(21 * time.Hour),
			from: endOf("2016-06-10").Add(-now.Sub(now.AddDate(-1, 0, 0))), to: endOf("2016-06-10")},
		{name: "quote is current", rng: "1y", quote: now.Add(time.Hour), from: now.AddDate(-1, 0, 0), to: now},
		{name: "no quote", rng: "1y", from: now.AddDate(-1, 0, 0), to: now},
		{name: "absolute range", rng: "2016-01-01/2016-12-31", quote: day("2015-01-01"), from: day("2016-01-01"), to: endOf("2016-12-31")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, _ := newStore(t)
			md := &fakeMD{quoteTime: tt.quote}
			e, err := New(md, store, WithLogger(quiet))
			require.NoError(t, err)
			sp, err := Request{Symbols: []string{"AAPL"}, Range: tt.rng}.Resolve(Defaults{}, now)
			require.NoError(t, err)
			_, err = e.Run(t.Context(), "job-r", sp, &recorder{})
			require.NoError(t, err)
			require.Len(t, md.queries, 1)
			require.Equal(t, tt.from, md.queries[0].From)
			require.Equal(t, tt.to, md.queries[0].To)
		})
	}
}
