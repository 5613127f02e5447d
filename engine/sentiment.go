package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/strategy"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/leakinject"
	"github.com/leakgate/leakgate/providers/reddit"
)

// searchTerm is what posts about sym are searched for.
func searchTerm(sym string) string {
	if base, quote, ok := providers.SplitPair(sym); ok {
		if strings.Contains(sym, "_") {
			return base + "/" + quote
		}
		return base
	}
	return sym
}

// sentiment searches the configured subreddits for posts about sym and
// scores them with reddit.Sentiment. Posts that mention sym without a
// bullish or bearish word do not count as samples.
func (e *Engine) sentiment(ctx context.Context, sym string) (_ strategy.Sentiment, err error) {
	ps := e.posts
	if leakinject.On(leakinject.ScannerSessionNotClosed) {
		// The leak (BUG-040's reddit_scanner): the scan opens a client of
		// its own and closes it only when the scan succeeds.
		if c, berr := e.src.build(config.Reddit); berr == nil && c.posts != nil {
			ps = c.posts
			defer func() {
				if err == nil {
					c.close()
				}
			}()
		}
	}
	var all []providers.Post
	var errs []error
	for _, sub := range e.cfg.Sentiment.Subreddits {
		posts, err := ps.Posts(ctx, providers.PostQuery{Subreddit: sub, Search: searchTerm(sym), Limit: e.cfg.Sentiment.Limit})
		if err != nil {
			if ctx.Err() != nil {
				return strategy.Sentiment{}, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("r/%s: %w", sub, err))
			continue
		}
		all = append(all, posts...)
	}
	if len(all) == 0 && len(errs) > 0 {
		return strategy.Sentiment{}, errors.Join(errs...)
	}
	sc := reddit.Sentiment(all, sym)
	s := strategy.Sentiment{Score: sc.Value, Source: "reddit"}
	if sc.Bullish+sc.Bearish > 0 {
		s.Samples = sc.Mentions
	}
	return s, nil
}
