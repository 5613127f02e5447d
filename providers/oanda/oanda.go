package oanda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/internal/wire"
)

// Base URLs of the two OANDA environments.
const (
	DefaultBaseURL = "https://api-fxpractice.oanda.com"
	LiveBaseURL    = "https://api-fxtrade.oanda.com"
)

// ProviderName is the provider's name in errors, logs and results.
const ProviderName = "oanda"

// RateLimit and Burst are the defaults New sets: OANDA allows 120 requests
// per second on the REST API. Options given to New override them.
const (
	RateLimit = rate.Limit(120)
	Burst     = 20
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API's base URL; request paths (/v3/…) are appended to
	// it. Empty means DefaultBaseURL (practice), or LiveBaseURL when Live is
	// set. A non-empty BaseURL wins over Live.
	BaseURL string
	// Live selects the fxTrade (real money) environment when BaseURL is
	// empty.
	Live bool
	// Token is the personal access token. It is a secret: it never appears
	// in errors or logs.
	Token string
	// AccountID ("101-001-1234567-001") is needed by Quote, Account,
	// PlaceOrder and LatestCandles; Bars works without it.
	AccountID string
	// IncludeIncomplete makes Bars return the last candle while it is still
	// forming ("complete": false). By default it is left out.
	IncludeIncomplete bool
}

// Client is an OANDA v20 client. It is safe for concurrent use. Call Close
// when done.
type Client struct {
	pc                *providers.Client
	accountID         string
	includeIncomplete bool
	now               func() time.Time
}

var (
	_ providers.MarketData = (*Client)(nil)
	_ providers.Broker     = (*Client)(nil)
)

var accountIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// New returns a Client for cfg. The documented rate limit is set as a
// default before opts are applied; the token is registered with
// providers.WithSecrets. The caller must call Close.
func New(cfg Config, opts ...providers.Option) (*Client, error) {
	token := strings.TrimSpace(cfg.Token)
	if token == "" {
		return nil, errors.New("oanda: Config.Token is empty: create a personal access token in the OANDA account portal")
	}
	if strings.ContainsAny(token, " \r\n\t") {
		return nil, errors.New("oanda: Config.Token contains white space")
	}
	if cfg.AccountID != "" && !accountIDPattern.MatchString(cfg.AccountID) {
		return nil, fmt.Errorf("oanda: Config.AccountID %q: want an id such as 101-001-1234567-001", cfg.AccountID)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
		if cfg.Live {
			base = LiveBaseURL
		}
	}
	auth := func(req *http.Request, _ []byte) error {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Datetime-Format", "RFC3339")
		return nil
	}
	var pc *providers.Client
	all := append([]providers.Option{providers.WithRateLimit(RateLimit, Burst), providers.WithSecrets(token)}, opts...)
	pc, err := providers.NewClient(ProviderName, base, func(r *providers.Response) error { return classify(pc, r) }, auth, all...)
	if err != nil {
		return nil, fmt.Errorf("oanda: Config.BaseURL: %w", err)
	}
	return &Client{pc: pc, accountID: cfg.AccountID, includeIncomplete: cfg.IncludeIncomplete, now: time.Now}, nil
}

// Name returns "oanda".
func (c *Client) Name() string { return ProviderName }

// Classes returns the asset class OANDA serves: forex.
func (c *Client) Classes() []providers.AssetClass { return []providers.AssetClass{providers.Forex} }

// Close releases the client's connections. It is idempotent and safe to call
// concurrently.
func (c *Client) Close() error { return c.pc.Close() }

// accountPath returns /v3/accounts/{id}/suffix, or an error when the client
// has no account id.
func (c *Client) accountPath(op, suffix string) (string, error) {
	if c.accountID == "" {
		return "", fmt.Errorf("oanda: %s: Config.AccountID is empty", op)
	}
	return "/v3/accounts/" + url.PathEscape(c.accountID) + suffix, nil
}

// do sends req and returns the body of the successful answer.
func (c *Client) do(ctx context.Context, req providers.Request) ([]byte, error) {
	resp, err := c.pc.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// instrumentPattern is the shape of OANDA instrument names beyond currency
// pairs: metals and CFDs such as XAU_USD or SPX500_USD.
var instrumentPattern = regexp.MustCompile(`^[A-Z0-9]{2,10}_[A-Z0-9]{2,10}$`)

// instrument returns the OANDA instrument for a symbol: a forex pair in the
// normalised form ("EUR_USD" from "EUR/USD", "eurusd", …), or an OANDA
// instrument name such as "XAU_USD" as given.
func instrument(symbol string) (string, error) {
	sym, class, err := providers.NormalizeSymbol(symbol)
	if err == nil && class == providers.Forex {
		return sym, nil
	}
	if raw := strings.ToUpper(strings.TrimSpace(symbol)); instrumentPattern.MatchString(raw) {
		return raw, nil
	}
	if err != nil {
		return "", fmt.Errorf("oanda: %w", err)
	}
	return "", fmt.Errorf("oanda: %s is %s; OANDA serves forex pairs such as EUR_USD and instruments such as XAU_USD: %w",
		sym, class, providers.ErrUnsupported)
}

// instrumentSymbol is the symbol an answer's instrument is reported as: the
// normalised pair for currencies, the instrument name otherwise.
func instrumentSymbol(inst string) string {
	if sym, class, err := providers.NormalizeSymbol(inst); err == nil && class == providers.Forex {
		return sym
	}
	return inst
}

// Reasons an order is refused, matched with errors.Is against an *APIError.
var (
	// ErrInsufficientFunds means the account lacks the margin or funds for
	// the order (INSUFFICIENT_MARGIN, INSUFFICIENT_FUNDS, …).
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrInvalidOrder means the order itself is wrong: units, price or
	// instrument invalid, missing or of too many decimals.
	ErrInvalidOrder = errors.New("invalid order")
)

// APIError is an error answer of the v20 API. It wraps the answer's
// *providers.StatusError (so errors.Is matches its Kind) and adds OANDA's
// codes.
type APIError struct {
	Err *providers.StatusError
	// Code is errorCode, e.g. "PRICE_PRECISION_EXCEEDED"; often empty.
	Code string
	// Message is errorMessage.
	Message string
	// RejectReason is the rejectReason of the answer's reject transactions
	// (orderRejectTransaction, longOrderRejectTransaction, …), comma
	// separated when there are several.
	RejectReason string
	// RequestID is the RequestID header of the answer, for OANDA support.
	RequestID string
}

// Error implements error.
func (e *APIError) Error() string {
	msg := e.Err.Error()
	if e.RejectReason != "" && e.RejectReason != e.Code {
		msg += " (reject reason " + e.RejectReason + ")"
	}
	if e.RequestID != "" {
		msg += " [RequestID " + e.RequestID + "]"
	}
	return msg
}

// Unwrap returns the underlying *providers.StatusError.
func (e *APIError) Unwrap() error { return e.Err }

// Is matches ErrInsufficientFunds and ErrInvalidOrder by the error code and
// reject reasons; the StatusError's Kind is matched through Unwrap.
func (e *APIError) Is(target error) bool {
	codes := strings.ToUpper(e.Code + "," + e.RejectReason)
	switch target {
	case ErrInsufficientFunds:
		return strings.Contains(codes, "INSUFFICIENT_MARGIN") || strings.Contains(codes, "INSUFFICIENT_FUNDS")
	case ErrInvalidOrder:
		for _, w := range []string{"INVALID", "MISSING", "PRECISION", "MINIMUM", "MAXIMUM", "INSTRUMENT_UNKNOWN"} {
			if strings.Contains(codes, w) {
				return true
			}
		}
	}
	return false
}

// classify turns v20 error bodies into *APIError and HTML pages into a clear
// ErrUpstream.
func classify(pc *providers.Client, r *providers.Response) error {
	if r.Status < 400 {
		if wire.IsHTML(r) {
			return pc.NewStatusError(r, providers.ErrUpstream, "HTML instead of JSON: "+providers.Excerpt(r.Body))
		}
		return nil
	}
	code, msg, reject, ok := ParseError(r.Body)
	if !ok {
		return nil // the core maps the status and quotes the body
	}
	text := msg
	if code != "" {
		text = code + ": " + msg
	}
	return &APIError{
		Err:  pc.NewStatusError(r, providers.KindForStatus(r.Status), text),
		Code: pc.Redact(code), Message: pc.Redact(msg), RejectReason: pc.Redact(reject),
		RequestID: r.Header.Get("RequestID"),
	}
}

// ParseError reads a v20 error body: {"errorMessage", "errorCode"?} and the
// rejectReason of any *RejectTransaction objects beside them. ok is false
// when the body is not such an error.
func ParseError(body []byte) (code, message, rejectReason string, ok bool) {
	var e map[string]json.RawMessage
	if json.Unmarshal(body, &e) != nil {
		return "", "", "", false
	}
	_ = json.Unmarshal(e["errorCode"], &code)
	_ = json.Unmarshal(e["errorMessage"], &message)
	if code == "" && message == "" {
		return "", "", "", false
	}
	var reasons []string
	for _, k := range slices.Sorted(maps.Keys(e)) {
		if !strings.HasSuffix(k, "RejectTransaction") {
			continue
		}
		var tx struct {
			RejectReason string `json:"rejectReason"`
		}
		if json.Unmarshal(e[k], &tx) == nil && tx.RejectReason != "" {
			reasons = append(reasons, tx.RejectReason)
		}
	}
	return code, message, strings.Join(reasons, ","), true
}
