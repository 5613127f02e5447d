package reddit

import (
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/leakgate/leakgate/providers"
)

// TopPosts is how many mentioning posts a Score keeps.
const TopPosts = 5

// Score is the sentiment of a set of posts towards one symbol.
type Score struct {
	// Symbol is the symbol scored, as given to Sentiment.
	Symbol string
	// Value is (Bullish − Bearish) / (Bullish + Bearish), in [-1, 1]; zero
	// when no mentioning post holds a word of either list.
	Value float64
	// Mentions is how many posts mention the symbol.
	Mentions int
	// Bullish and Bearish are the weighted counts of bullish and bearish
	// words in the mentioning posts.
	Bullish, Bearish float64
	// Top holds up to TopPosts mentioning posts, highest Reddit score
	// first.
	Top []providers.Post
}

// Sentiment scores posts towards symbol with a deliberately simple
// heuristic, not a language model:
//
//   - A post mentions the symbol when its title or body holds "$SYM" in any
//     case, or SYM written in capitals as a word. For a crypto pair
//     ("BTC-USD") the base asset counts (BTC, and the coin's name for the
//     best-known coins); for a forex pair ("EUR_USD") "EURUSD" or "EUR/USD".
//     An empty symbol makes every post count (the mood of the whole
//     community).
//   - Each word of a mentioning post found in a fixed list of bullish words
//     ("bullish", "calls", "moon", "undervalued", 🚀 …) or bearish words
//     ("bearish", "puts", "crash", "overvalued", 📉 …) counts once per
//     occurrence, weighted by 1 + log10(1 + score) so that upvoted posts
//     count more without one viral post deciding alone. Negation ("not
//     bullish"), sarcasm and context are ignored.
//
// Sentiment is pure: it makes no request and keeps no state.
func Sentiment(posts []providers.Post, symbol string) Score {
	s := Score{Symbol: symbol}
	m := newMatcher(symbol)
	var mentioning []providers.Post
	for _, p := range posts {
		text := p.Title + "\n" + p.Body
		toks := tokenize(text)
		if !m.mentions(toks) {
			continue
		}
		s.Mentions++
		mentioning = append(mentioning, p)
		w := 1 + math.Log10(1+float64(max(p.Score, 0)))
		for _, t := range toks {
			switch lexicon[strings.ToLower(t.text)] {
			case bullish:
				s.Bullish += w
			case bearish:
				s.Bearish += w
			}
		}
	}
	if total := s.Bullish + s.Bearish; total > 0 {
		s.Value = (s.Bullish - s.Bearish) / total
	}
	slices.SortStableFunc(mentioning, func(a, b providers.Post) int {
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		return b.Created.Compare(a.Created)
	})
	if len(mentioning) > TopPosts {
		mentioning = mentioning[:TopPosts]
	}
	s.Top = mentioning
	return s
}

// word is a word of a post: a run of letters and digits, or one emoji.
type word struct {
	text   string
	dollar bool // written as $TEXT
}

func tokenize(s string) []word {
	var toks []word
	start, dollar := -1, false
	flush := func(end int) {
		if start >= 0 {
			toks = append(toks, word{text: s[start:end], dollar: dollar})
		}
		start, dollar = -1, false
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
				dollar = i > 0 && s[i-1] == '$'
			}
		case r == '🚀' || r == '📈' || r == '📉' || r == '🐻' || r == '🐂':
			flush(i)
			toks = append(toks, word{text: string(r)})
		default:
			flush(i)
		}
	}
	flush(len(s))
	return toks
}

// matcher decides whether a post's tokens mention a symbol.
type matcher struct {
	all   bool   // empty symbol: everything matches
	word  string // upper-case ticker, base asset or run-together pair
	name  string // lower-case coin name, if any
	base  string // forex: "EUR" of EUR/USD
	quote string
}

func newMatcher(symbol string) matcher {
	if symbol == "" {
		return matcher{all: true}
	}
	sym, class, err := providers.NormalizeSymbol(symbol)
	if err != nil {
		return matcher{word: strings.ToUpper(symbol)}
	}
	switch class {
	case providers.Crypto:
		base, _, _ := providers.SplitPair(sym)
		return matcher{word: base, name: coinNames[base]}
	case providers.Forex:
		base, quote, _ := providers.SplitPair(sym)
		return matcher{word: base + quote, base: base, quote: quote}
	}
	return matcher{word: sym}
}

func (m matcher) mentions(toks []word) bool {
	if m.all {
		return true
	}
	for i, t := range toks {
		switch {
		case t.text == m.word, t.dollar && strings.EqualFold(t.text, m.word):
			return true
		case m.name != "" && strings.EqualFold(t.text, m.name):
			return true
		case m.base != "" && t.text == m.base && i+1 < len(toks) && toks[i+1].text == m.quote:
			return true
		}
	}
	return false
}

var coinNames = map[string]string{
	"BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana", "DOGE": "dogecoin",
	"ADA": "cardano", "XRP": "ripple", "LTC": "litecoin",
}

type polarity int8

const (
	neutral polarity = iota
	bullish
	bearish
)

// lexicon holds lower-case words of clear polarity in trading talk. Words
// with common neutral senses ("long", "short", "call", "put", "red") are
// left out.
var lexicon = map[string]polarity{
	"bull": bullish, "bulls": bullish, "bullish": bullish, "buy": bullish, "buying": bullish,
	"bought": bullish, "calls": bullish, "moon": bullish, "mooning": bullish, "rocket": bullish,
	"rally": bullish, "rallying": bullish, "breakout": bullish, "undervalued": bullish,
	"upgrade": bullish, "upgraded": bullish, "beat": bullish, "beats": bullish, "soar": bullish,
	"soaring": bullish, "surge": bullish, "surging": bullish, "gain": bullish, "gains": bullish,
	"squeeze": bullish, "hodl": bullish, "accumulate": bullish, "accumulating": bullish,
	"outperform": bullish, "uptrend": bullish, "🚀": bullish, "📈": bullish, "🐂": bullish,

	"bear": bearish, "bears": bearish, "bearish": bearish, "sell": bearish, "selling": bearish,
	"sold": bearish, "shorting": bearish, "shorted": bearish, "puts": bearish, "crash": bearish,
	"crashing": bearish, "dump": bearish, "dumping": bearish, "tank": bearish, "tanking": bearish,
	"plunge": bearish, "plunging": bearish, "overvalued": bearish, "downgrade": bearish,
	"downgraded": bearish, "miss": bearish, "missed": bearish, "drop": bearish, "dropping": bearish,
	"loss": bearish, "losses": bearish, "bagholder": bearish, "bagholding": bearish,
	"bubble": bearish, "downtrend": bearish, "bankrupt": bearish, "bankruptcy": bearish,
	"fraud": bearish, "📉": bearish, "🐻": bearish,
}
