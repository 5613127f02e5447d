// Package export is the download-tracker job: for each symbol of a Spec it
// fetches bars through a providers.MarketData (a bounded number of symbols
// at a time), scans social-media sentiment through an optional
// providers.PostSource, runs the analytics crew, and writes everything as
// one atomic export bundle whose id is the job id.
//
// A symbol whose bars cannot be fetched is reported in the job's progress
// and result and left out of the bundle; the job fails only when no symbol
// could be fetched. A sentiment scan that fails is reported and skipped.
// Running a job again after an interruption finds a bundle already
// committed under its id and returns it, so a resumed job never exports
// twice.
package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/exportbundle"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/reddit"
)

// Kind is the job kind of a download-tracker export.
const Kind = "download-tracker"

// Names of the files a bundle holds besides the bar files <SYMBOL>.csv
// and <SYMBOL>.json.
const (
	SentimentFile      = "sentiment.json"
	ReportJSONFile     = "crew_report.json"
	ReportMarkdownFile = "crew_report.md"
)

// Defaults of an Exporter.
const (
	DefaultConcurrency = 4
	DefaultPostLimit   = 100
)

// Option configures an Exporter.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	posts       providers.PostSource
	subreddits  []string
	postLimit   int
	crew        *crew.Crew
	concurrency int
	logger      *slog.Logger
}

// WithPosts scans sentiment in the posts of subreddits (at most limit
// posts each; DefaultPostLimit if not positive). The Exporter does not own
// ps.
func WithPosts(ps providers.PostSource, subreddits []string, limit int) Option {
	return optionFunc(func(o *options) { o.posts, o.subreddits, o.postLimit = ps, subreddits, limit })
}

// WithCrew sets the crew that runs when a Spec asks for it. Without it, a
// Spec's Crew is ignored.
func WithCrew(c *crew.Crew) Option { return optionFunc(func(o *options) { o.crew = c }) }

// WithConcurrency bounds how many symbols are fetched at once
// [DefaultConcurrency].
func WithConcurrency(n int) Option { return optionFunc(func(o *options) { o.concurrency = n }) }

// WithLogger sets where skipped symbols and scans are logged.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// Exporter runs download-tracker exports. It owns none of its
// dependencies.
type Exporter struct {
	md      providers.MarketData
	bundles *exportbundle.Store
	o       options
}

// New returns an Exporter fetching from md and writing into bundles.
func New(md providers.MarketData, bundles *exportbundle.Store, opts ...Option) (*Exporter, error) {
	if md == nil || bundles == nil {
		return nil, errors.New("export: nil market data or bundle store")
	}
	o := options{concurrency: DefaultConcurrency, postLimit: DefaultPostLimit, logger: slog.Default()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.concurrency < 1 {
		return nil, fmt.Errorf("export: concurrency %d must be positive", o.concurrency)
	}
	if o.postLimit <= 0 {
		o.postLimit = DefaultPostLimit
	}
	return &Exporter{md: md, bundles: bundles, o: o}, nil
}

// Result is what an export job returns.
type Result struct {
	ExportID string `json:"export_id"`
	Files    int    `json:"files"`
	Bytes    int64  `json:"bytes"`
	// Bars counts the bars exported per symbol.
	Bars map[string]int `json:"bars"`
	// Failed gives the reason per symbol left out.
	Failed map[string]string `json:"failed,omitempty"`
	// Sentiment says whether a sentiment scan is in the bundle, or why not.
	Sentiment string `json:"sentiment,omitempty"`
	Crew      bool   `json:"crew"`
	// Resumed is true when the bundle was already committed by an earlier
	// attempt of the job.
	Resumed bool `json:"resumed,omitempty"`
}

// Progress receives the state of each item of an export: one per symbol,
// plus "sentiment", "crew" and "bundle". *jobs.Tracker satisfies it.
type Progress interface {
	Init(names ...string)
	Set(name string, state jobs.ItemState, detail string)
}

// Handler returns the jobs.Handler of Kind: it decodes the job's Spec and
// runs it under the job's id.
func (e *Exporter) Handler() jobs.Handler {
	return func(ctx context.Context, job jobs.Job, t *jobs.Tracker) (any, error) {
		var spec Spec
		if err := json.Unmarshal(job.Params, &spec); err != nil {
			return nil, fmt.Errorf("export: decode spec: %w", err)
		}
		return e.Run(ctx, job.ID, spec, t)
	}
}

// Progress items besides the symbols.
const (
	ItemSentiment = "sentiment"
	ItemCrew      = "crew"
	ItemBundle    = "bundle"
)

// Run exports spec as bundle id.
func (e *Exporter) Run(ctx context.Context, id string, spec Spec, p Progress) (Result, error) {
	items := slices.Clone(spec.Symbols)
	if e.o.posts != nil {
		items = append(items, ItemSentiment)
	}
	if spec.Crew && e.o.crew != nil {
		items = append(items, ItemCrew)
	}
	items = append(items, ItemBundle)
	p.Init(items...)

	if m, err := e.bundles.Manifest(id); err == nil {
		for _, it := range items {
			p.Set(it, jobs.ItemDone, "exported by an earlier attempt")
		}
		return resultOf(m), nil
	}

	b, err := e.bundles.Create(id)
	if err != nil {
		return Result{}, fmt.Errorf("export: %w", err)
	}
	defer b.Abort() //nolint:errcheck // a no-op after Commit; a failed abort is cleaned at the next Open

	res := Result{ExportID: id, Bars: map[string]int{}, Failed: map[string]string{}}
	bars, err := e.fetchAll(ctx, b, spec, p, &res)
	if err != nil {
		return Result{}, err
	}
	if len(res.Bars) == 0 {
		p.Set(ItemBundle, jobs.ItemFailed, "no symbol could be fetched")
		return Result{}, fmt.Errorf("export: no symbol could be fetched: %s", joinFailures(res.Failed))
	}

	sentiment := e.scanSentiment(ctx, b, spec, p, &res)
	if ctx.Err() != nil {
		return Result{}, context.Cause(ctx)
	}
	if spec.Crew && e.o.crew != nil {
		if err := e.runCrew(ctx, b, spec, bars, sentiment, p); err != nil {
			return Result{}, err
		}
		res.Crew = true
	}

	p.Set(ItemBundle, jobs.ItemRunning, "")
	labels := map[string]string{
		"job":      id,
		"kind":     Kind,
		"symbols":  strings.Join(slices.Sorted(maps.Keys(res.Bars)), ","),
		"bars":     barCounts(res.Bars),
		"range":    spec.Range,
		"from":     spec.From.Format("2006-01-02"),
		"to":       spec.To.Format("2006-01-02"),
		"interval": string(spec.Interval),
	}
	if err := ctx.Err(); err != nil {
		return Result{}, context.Cause(ctx)
	}
	m, err := b.Commit(labels)
	if err != nil {
		p.Set(ItemBundle, jobs.ItemFailed, err.Error())
		return Result{}, fmt.Errorf("export: %w", err)
	}
	p.Set(ItemBundle, jobs.ItemDone, fmt.Sprintf("%d files", len(m.Files)))
	for _, f := range m.Files {
		res.Files++
		res.Bytes += f.Size
	}
	if len(res.Failed) == 0 {
		res.Failed = nil
	}
	return res, nil
}

// fetchAll fetches and writes the bars of every symbol, at most
// concurrency at a time. Only a cancelled context or a bundle write error
// fails it; a symbol that cannot be fetched is recorded in res.Failed.
func (e *Exporter) fetchAll(ctx context.Context, b *exportbundle.Bundle, spec Spec, p Progress, res *Result) (map[string][]providers.Bar, error) {
	var mu sync.Mutex
	all := make(map[string][]providers.Bar, len(spec.Symbols))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.o.concurrency)
	for _, sym := range spec.Symbols {
		g.Go(func() error {
			p.Set(sym, jobs.ItemRunning, "")
			from, to := e.window(gctx, spec, sym)
			bars, err := e.md.Bars(gctx, providers.BarQuery{Symbol: sym, Interval: spec.Interval, From: from, To: to})
			if err == nil && len(bars) == 0 {
				err = providers.ErrNoData
			}
			if err != nil {
				if gctx.Err() != nil {
					return context.Cause(gctx)
				}
				p.Set(sym, jobs.ItemFailed, err.Error())
				e.o.logger.Debug("export: symbol skipped", "symbol", sym, "err", err)
				mu.Lock()
				res.Failed[sym] = err.Error()
				mu.Unlock()
				return nil
			}
			if err := writeBars(b, sym, spec, bars); err != nil {
				p.Set(sym, jobs.ItemFailed, err.Error())
				return err
			}
			p.Set(sym, jobs.ItemDone, fmt.Sprintf("%d bars", len(bars)))
			mu.Lock()
			all[sym] = bars
			res.Bars[sym] = len(bars)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("export: %w", err)
	}
	return all, nil
}

// window returns the time range to fetch for sym: the Spec's, or for a
// relative range the same span ending at the symbol's latest quote when
// that is earlier than the Spec's end. Without a quote the Spec's range
// stands.
func (e *Exporter) window(ctx context.Context, spec Spec, sym string) (from, to time.Time) {
	if !spec.Relative {
		return spec.From, spec.To
	}
	q, err := e.md.Quote(ctx, sym)
	if err != nil || q.Time.IsZero() || !q.Time.Before(spec.To) {
		return spec.From, spec.To
	}
	end := q.Time.UTC().Truncate(24 * time.Hour).Add(24*time.Hour - time.Nanosecond) // the whole day of the quote
	if end.After(spec.To) {
		end = spec.To
	}
	return end.Add(-spec.To.Sub(spec.From)), end
}

func writeBars(b *exportbundle.Bundle, sym string, spec Spec, bars []providers.Bar) error {
	for _, f := range spec.Formats {
		var err error
		switch f {
		case FormatCSV:
			_, err = b.Add(sym+".csv", exportbundle.ContentTypeCSV, func(w io.Writer) error {
				return exportbundle.WriteBarsCSV(w, bars)
			})
		case FormatJSON:
			_, err = b.Add(sym+".json", exportbundle.ContentTypeJSON, func(w io.Writer) error {
				return exportbundle.WriteBarsJSON(w, sym, spec.Interval, bars)
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SymbolSentiment is the sentiment of one symbol in sentiment.json.
type SymbolSentiment struct {
	Symbol   string  `json:"symbol"`
	Score    float64 `json:"score"`
	Mentions int     `json:"mentions"`
	Bullish  float64 `json:"bullish"`
	Bearish  float64 `json:"bearish"`
}

// SentimentDocument is the content of sentiment.json.
type SentimentDocument struct {
	Source     string            `json:"source"`
	Subreddits []string          `json:"subreddits"`
	Posts      int               `json:"posts"`
	Symbols    []SymbolSentiment `json:"symbols"`
}

// scanSentiment reads posts and scores each fetched symbol. Failures are
// reported and skipped.
func (e *Exporter) scanSentiment(ctx context.Context, b *exportbundle.Bundle, spec Spec, p Progress, res *Result) map[string]crew.Sentiment {
	if e.o.posts == nil {
		return nil
	}
	p.Set(ItemSentiment, jobs.ItemRunning, "")
	var posts []providers.Post
	for _, sub := range e.o.subreddits {
		got, err := e.o.posts.Posts(ctx, providers.PostQuery{Subreddit: sub, Limit: e.o.postLimit})
		if err != nil {
			res.Sentiment = "skipped: " + err.Error()
			p.Set(ItemSentiment, jobs.ItemFailed, err.Error())
			e.o.logger.Debug("export: sentiment scan skipped", "subreddit", sub, "err", err)
			return nil
		}
		posts = append(posts, got...)
	}
	doc := SentimentDocument{Source: e.o.posts.Name(), Subreddits: e.o.subreddits, Posts: len(posts)}
	out := map[string]crew.Sentiment{}
	for _, sym := range spec.Symbols {
		if _, ok := res.Bars[sym]; !ok {
			continue
		}
		s := reddit.Sentiment(posts, sym)
		doc.Symbols = append(doc.Symbols, SymbolSentiment{Symbol: sym, Score: s.Value, Mentions: s.Mentions, Bullish: s.Bullish, Bearish: s.Bearish})
		out[sym] = crew.Sentiment{Score: s.Value, Posts: s.Mentions,
			Bullish: int(math.Round(s.Bullish)), Bearish: int(math.Round(s.Bearish))}
	}
	if err := addJSON(b, SentimentFile, doc); err != nil {
		res.Sentiment = "skipped: " + err.Error()
		p.Set(ItemSentiment, jobs.ItemFailed, err.Error())
		return nil
	}
	res.Sentiment = fmt.Sprintf("%d posts from %d subreddits", len(posts), len(e.o.subreddits))
	p.Set(ItemSentiment, jobs.ItemDone, res.Sentiment)
	return out
}

func (e *Exporter) runCrew(ctx context.Context, b *exportbundle.Bundle, spec Spec, bars map[string][]providers.Bar,
	sentiment map[string]crew.Sentiment, p Progress) error {
	p.Set(ItemCrew, jobs.ItemRunning, "")
	var syms []string
	for _, s := range spec.Symbols {
		if _, ok := bars[s]; ok {
			syms = append(syms, s)
		}
	}
	rep, err := e.o.crew.Run(ctx, crew.Input{Symbols: syms, Interval: spec.Interval, Bars: bars, Sentiment: sentiment})
	if err != nil {
		p.Set(ItemCrew, jobs.ItemFailed, err.Error())
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("export: %w", err)
	}
	if err := addJSON(b, ReportJSONFile, rep); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := b.AddBytes(ReportMarkdownFile, exportbundle.ContentTypeMarkdown, []byte(rep.Markdown())); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	p.Set(ItemCrew, jobs.ItemDone, fmt.Sprintf("%d sections", len(rep.Sections)))
	return nil
}

func addJSON(b *exportbundle.Bundle, name string, v any) error {
	_, err := b.Add(name, exportbundle.ContentTypeJSON, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
	return err
}

// resultOf rebuilds the Result of a bundle committed earlier.
func resultOf(m exportbundle.Manifest) Result {
	res := Result{ExportID: m.ID, Bars: map[string]int{}, Resumed: true}
	for _, f := range m.Files {
		res.Files++
		res.Bytes += f.Size
		switch f.Name {
		case ReportJSONFile:
			res.Crew = true
		case SentimentFile:
			res.Sentiment = "exported by an earlier attempt"
		}
	}
	for _, kv := range strings.Split(m.Labels["bars"], ",") {
		sym, n, ok := strings.Cut(kv, ":")
		if count, err := strconv.Atoi(n); ok && err == nil {
			res.Bars[sym] = count
		}
	}
	return res
}

// barCounts encodes bar counts as the "bars" label: "AAPL:252,SPY:252".
func barCounts(bars map[string]int) string {
	var parts []string
	for _, sym := range slices.Sorted(maps.Keys(bars)) {
		parts = append(parts, sym+":"+strconv.Itoa(bars[sym]))
	}
	return strings.Join(parts, ",")
}

func joinFailures(failed map[string]string) string {
	var parts []string
	for _, sym := range slices.Sorted(maps.Keys(failed)) {
		parts = append(parts, sym+": "+failed[sym])
	}
	return strings.Join(parts, "; ")
}
