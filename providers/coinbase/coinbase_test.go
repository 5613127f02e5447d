package coinbase_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/coinbase"
	"github.com/leakgate/leakgate/providers/internal/providertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	exURL       = coinbase.DefaultExchangeURL
	trURL       = coinbase.DefaultBaseURL
	testKeyName = "organizations/7a1c5a6e-0000-4000-8000-000000000001/apiKeys/3f0b2c9d-0000-4000-8000-000000000002"
)

// testKey is a P-256 key made for this test binary, and its SEC 1 PEM form.
var testKey = sync.OnceValues(func() (*ecdsa.PrivateKey, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
})

func testKeyPub() *ecdsa.PublicKey {
	k, _ := testKey()
	return &k.PublicKey
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Fixture(t, "coinbase", name)
}

// local reads a file of this package's testdata (documented shapes that
// testdata/upstream has no recording of).
func local(t testing.TB, name string) []byte {
	t.Helper()
	return providertest.Testdata(t, name)
}

// testOptions are the options every mock test uses: providertest's (short
// backoffs, no rate limit, a quiet logger) and a 2 s timeout.
func testOptions(mt http.RoundTripper, extra ...providers.Option) []providers.Option {
	return providertest.MockOptions(mt, append([]providers.Option{providers.WithTimeout(2 * time.Second)}, extra...)...)
}

// newMock returns a Client with credentials whose requests go to a fresh
// httpmock transport.
func newMock(t *testing.T, extra ...providers.Option) (*coinbase.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	_, pemKey := testKey()
	c, err := coinbase.New(coinbase.Config{KeyName: testKeyName, PrivateKey: pemKey}, testOptions(mt, extra...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c, mt
}

const htmlPage = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>\n"

func htmlResponder(status int) httpmock.Responder { return providertest.RespondHTML(status, htmlPage) }

// jwtParts is a verified JWT's header and claims.
type jwtParts struct {
	Header struct {
		Alg, Kid, Nonce, Typ string
	}
	Claims struct {
		Sub, Iss, URI string
		Nbf, Exp      int64
	}
}

// verifyJWT checks the Authorization header of req the way Coinbase does:
// an ES256 signature by pub over header.claims, and the header and claims
// fields. It returns the decoded parts.
func verifyJWT(t *testing.T, pub *ecdsa.PublicKey, req *http.Request, wantURI string) jwtParts {
	t.Helper()
	authz := req.Header.Get("Authorization")
	require.True(t, strings.HasPrefix(authz, "Bearer "), "Authorization %q", authz)
	parts := strings.Split(strings.TrimPrefix(authz, "Bearer "), ".")
	require.Len(t, parts, 3)
	enc := base64.RawURLEncoding
	var got jwtParts
	hdr, err := enc.DecodeString(parts[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(hdr, &got.Header))
	claims, err := enc.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(claims, &got.Claims))
	sig, err := enc.DecodeString(parts[2])
	require.NoError(t, err)
	require.Len(t, sig, 64, "ES256 signature is r||s, 32 bytes each")
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	require.True(t, ecdsa.Verify(pub, digest[:], r, s), "signature does not verify")

	require.Equal(t, "ES256", got.Header.Alg)
	require.Equal(t, "JWT", got.Header.Typ)
	require.Equal(t, testKeyName, got.Header.Kid)
	_, err = hex.DecodeString(got.Header.Nonce)
	require.NoError(t, err, "nonce is hex")
	require.Len(t, got.Header.Nonce, 32)
	require.Equal(t, testKeyName, got.Claims.Sub)
	require.Equal(t, "cdp", got.Claims.Iss)
	require.Equal(t, wantURI, got.Claims.URI)
	require.Equal(t, int64(120), got.Claims.Exp-got.Claims.Nbf)
	require.InDelta(t, time.Now().Unix(), got.Claims.Nbf, 10)
	return got
}

func TestNewValidatesConfig(t *testing.T) {
	_, pemKey := testKey()
	rsaLike := "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der384, err := x509.MarshalECPrivateKey(p384)
	require.NoError(t, err)
	pem384 := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der384}))
	k, _ := testKey()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	pemPKCS8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))

	tests := []struct {
		name    string
		give    coinbase.Config
		wantErr string
	}{
		{name: "no credentials", give: coinbase.Config{}},
		{name: "SEC 1 key", give: coinbase.Config{KeyName: testKeyName, PrivateKey: pemKey}},
		{name: "PKCS 8 key", give: coinbase.Config{KeyName: testKeyName, PrivateKey: pemPKCS8}},
		{name: "key with escaped newlines", give: coinbase.Config{KeyName: testKeyName, PrivateKey: strings.ReplaceAll(pemKey, "\n", `\n`)}},
		{name: "key without name", give: coinbase.Config{PrivateKey: pemKey}, wantErr: "KeyName is empty"},
		{name: "name without key", give: coinbase.Config{KeyName: testKeyName}, wantErr: "PrivateKey is empty"},
		{name: "not PEM", give: coinbase.Config{KeyName: testKeyName, PrivateKey: "secret-not-a-pem-key"}, wantErr: "not a PEM block"},
		{name: "RSA block", give: coinbase.Config{KeyName: testKeyName, PrivateKey: rsaLike}, wantErr: `PEM "RSA PRIVATE KEY" block`},
		{name: "P-384 key", give: coinbase.Config{KeyName: testKeyName, PrivateKey: pem384}, wantErr: "needs P-256"},
		{name: "bad exchange URL", give: coinbase.Config{ExchangeURL: "ftp://example.com"}, wantErr: "Config.ExchangeURL"},
		{name: "bad base URL", give: coinbase.Config{BaseURL: "api.coinbase.com"}, wantErr: "Config.BaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := coinbase.New(tt.give, providers.WithLogger(slog.New(slog.DiscardHandler)))
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, c.Close())
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, c)
			require.NotContains(t, err.Error(), "MHcC", "no key material in the error")
			require.NotContains(t, err.Error(), "secret-not-a-pem-key")
		})
	}
}

func TestInterfaces(t *testing.T) {
	c, _ := newMock(t)
	require.Equal(t, "coinbase", c.Name())
	require.Equal(t, []providers.AssetClass{providers.Crypto}, c.Classes())
	require.True(t, providers.Serves(c, providers.Crypto))
	require.False(t, providers.Serves(c, providers.Equity))
}

func TestBarsFixtures(t *testing.T) {
	type ohlcv struct {
		time                           time.Time
		open, high, low, close, volume float64
	}
	tests := []struct {
		name        string
		symbol      string
		interval    providers.Interval
		file        string
		wantGran    string
		wantN       int
		first, last ohlcv
	}{
		{
			// Rows are [time, low, high, open, close, volume], newest first.
			name: "BTC-USD hourly, 169 rows", symbol: "btc-usd", interval: providers.Hour,
			file: "exchange_products_BTC-USD_candles_granularity3600.json", wantGran: "3600", wantN: 169,
			first: ohlcv{time.Date(2020, 3, 9, 0, 0, 0, 0, time.UTC), 8024.86, 8131.69, 8024.84, 8084.11, 2066.57492273},
			last:  ohlcv{time.Date(2020, 3, 16, 0, 0, 0, 0, time.UTC), 5346.03, 5346.05, 5236.01, 5245.17, 3728.67857634},
		},
		{
			name: "BTC-USDT hourly, one row", symbol: "BTC/USDT", interval: providers.Hour,
			file: "exchange_products_BTC-USDT_candles_granularity3600_1row.json", wantGran: "3600", wantN: 1,
			first: ohlcv{time.Date(2024, 3, 13, 11, 0, 0, 0, time.UTC), 73243.33, 73402.47, 73241.5, 73370.65, 1.56794406},
			last:  ohlcv{time.Date(2024, 3, 13, 11, 0, 0, 0, time.UTC), 73243.33, 73402.47, 73241.5, 73370.65, 1.56794406},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			sym, _, err := providers.NormalizeSymbol(tt.symbol)
			require.NoError(t, err)
			var rec providertest.Recorder
			mt.RegisterResponder(http.MethodGet, exURL+"/products/"+sym+"/candles", rec.Wrap(providertest.RespondJSON(200, fixture(t, tt.file))))
			bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: tt.symbol, Interval: tt.interval})
			require.NoError(t, err)
			require.Len(t, bars, tt.wantN)
			for i, want := range []ohlcv{tt.first, tt.last} {
				b := bars[[]int{0, len(bars) - 1}[i]]
				require.Equal(t, want, ohlcv{b.Time, b.Open, b.High, b.Low, b.Close, b.Volume})
				require.Equal(t, time.UTC, b.Time.Location())
			}
			for i := 1; i < len(bars); i++ {
				require.True(t, bars[i].Time.After(bars[i-1].Time), "ascending at %d", i)
			}
			reqs, _ := rec.Requests()
			require.Len(t, reqs, 1)
			require.Equal(t, tt.wantGran, reqs[0].URL.Query().Get("granularity"))
			require.Empty(t, reqs[0].URL.Query().Get("start"), "no range: the Exchange's latest candles")
			require.Empty(t, reqs[0].Header.Get("Authorization"), "market data is public")
		})
	}
}

func TestBarsErrors(t *testing.T) {
	tests := []struct {
		name      string
		responder httpmock.Responder
		query     providers.BarQuery
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{name: "empty array", responder: providertest.RespondJSON(200, []byte("[]")), wantErr: providers.ErrNoData, wantCalls: 1},
		{name: "malformed JSON", responder: providertest.RespondJSON(200, []byte(`[[1584316800, 5236.01, 5346.05`)), wantErr: providers.ErrDecode, wantText: "coinbase: decode candles", wantCalls: 1},
		{name: "row too short", responder: providertest.RespondJSON(200, []byte(`[[1584316800, 5236.01, 5346.05]]`)), wantErr: providers.ErrDecode, wantText: "candles[0]", wantCalls: 1},
		{name: "string price", responder: providertest.RespondJSON(200, []byte(`[[1584316800, "5236.01", 5346.05, 5346.03, 5245.17, 1]]`)), wantErr: providers.ErrDecode, wantText: "candles[0][1]", wantCalls: 1},
		{name: "object instead of array", responder: providertest.RespondJSON(200, []byte(`{"message":"ok"}`)), wantErr: providers.ErrDecode, wantCalls: 1},
		{
			name: "400 granularity too small", responder: providertest.RespondJSON(400, fixture(t, "exchange_error_400_candles_granularity_too_small.json")),
			wantErr: providers.ErrUpstream, wantText: "granularity too small for the requested time range", wantCalls: 1,
		},
		{name: "404 NotFound", responder: providertest.RespondJSON(404, []byte(`{"message":"NotFound"}`)), wantErr: providers.ErrNotFound, wantText: "NotFound", wantCalls: 1},
		{name: "HTML 502 page", responder: htmlResponder(502), wantErr: providers.ErrUpstream, wantText: "502 Bad Gateway", wantCalls: 3},
		{name: "HTML page with 200", responder: htmlResponder(200), wantErr: providers.ErrUpstream, wantText: "HTML instead of JSON", wantCalls: 1},
		{name: "429 three times", responder: providertest.RespondJSON(429, []byte(`{"message":"Public rate limit exceeded"}`)), wantErr: providers.ErrRateLimited, wantText: "Public rate limit exceeded", wantCalls: 3},
		{name: "equity symbol", query: providers.BarQuery{Symbol: "AAPL"}, wantErr: providers.ErrUnsupported},
		{name: "forex symbol", query: providers.BarQuery{Symbol: "EUR_USD"}, wantErr: providers.ErrUnsupported},
		{name: "bad symbol", query: providers.BarQuery{Symbol: "BTC USD"}, wantErr: providers.ErrBadSymbol},
		{name: "weekly bars", query: providers.BarQuery{Symbol: "BTC-USD", Interval: providers.Week}, wantErr: providers.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			if tt.responder != nil {
				mt.RegisterResponder(http.MethodGet, exURL+"/products/BTC-USD/candles", tt.responder)
			}
			q := tt.query
			if q.Symbol == "" {
				q = providers.BarQuery{Symbol: "BTC-USD", Interval: providers.Day}
			}
			bars, err := c.Bars(t.Context(), q)
			require.ErrorIs(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.wantText)
			require.Nil(t, bars)
			require.Equal(t, tt.wantCalls, mt.GetTotalCallCount())
		})
	}
}

// TestBarsSplitsLongRanges asks for two years of daily bars: the Exchange
// serves at most 300 per request, so the client makes three requests and
// merges them.
func TestBarsSplitsLongRanges(t *testing.T) {
	c, mt := newMock(t)
	tooSmall := fixture(t, "exchange_error_400_candles_granularity_too_small.json")
	var rec providertest.Recorder
	// The stub answers each window like the Exchange: every bucket in
	// [start, end], newest first, plus one bucket before start (the API may
	// return such) that the client must drop.
	mt.RegisterResponder(http.MethodGet, exURL+"/products/BTC-USD/candles", rec.Wrap(func(req *http.Request) (*http.Response, error) {
		q := req.URL.Query()
		start, err := time.Parse(time.RFC3339, q.Get("start"))
		if err != nil {
			return httpmock.NewStringResponse(400, `{"message":"bad start"}`), nil
		}
		end, err := time.Parse(time.RFC3339, q.Get("end"))
		if err != nil {
			return httpmock.NewStringResponse(400, `{"message":"bad end"}`), nil
		}
		if end.Sub(start)/(24*time.Hour) >= 300 {
			return httpmock.NewBytesResponse(400, tooSmall), nil
		}
		var b bytes.Buffer
		b.WriteString("[")
		for ts := end; !ts.Before(start.Add(-24 * time.Hour)); ts = ts.Add(-24 * time.Hour) {
			if b.Len() > 1 {
				b.WriteString(",")
			}
			day := float64(ts.Unix()/86400) / 100
			fmt.Fprintf(&b, "[%d,%g,%g,%g,%g,%g]", ts.Unix(), 100+day, 102+day, 101+day, 101.5+day, 10+day)
		}
		b.WriteString("]")
		return httpmock.NewBytesResponse(200, b.Bytes()), nil
	}))
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC)
	bars, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "BTC-USD", Interval: providers.Day, From: from, To: to})
	require.NoError(t, err)
	require.Len(t, bars, 731)
	require.Equal(t, from, bars[0].Time)
	require.Equal(t, to, bars[len(bars)-1].Time)
	for i := 1; i < len(bars); i++ {
		require.Equal(t, 24*time.Hour, bars[i].Time.Sub(bars[i-1].Time), "bar %d", i)
	}
	reqs, _ := rec.Requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		require.Equal(t, "86400", r.URL.Query().Get("granularity"), "request %d", i)
	}
	require.Equal(t, "2020-01-01T00:00:00Z", reqs[0].URL.Query().Get("start"))
	require.Equal(t, "2020-10-26T00:00:00Z", reqs[0].URL.Query().Get("end"))
	require.Equal(t, "2020-10-27T00:00:00Z", reqs[1].URL.Query().Get("start"))
	require.Equal(t, "2021-12-31T00:00:00Z", reqs[2].URL.Query().Get("end"))
}

func TestBarsRangeTooLong(t *testing.T) {
	c, mt := newMock(t)
	_, err := c.Bars(t.Context(), providers.BarQuery{Symbol: "BTC-USD", Interval: providers.Minute,
		From: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.ErrorContains(t, err, "at most 100")
	_, err = c.Bars(t.Context(), providers.BarQuery{Symbol: "BTC-USD",
		From: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.ErrorContains(t, err, "ends before it starts")
	require.Zero(t, mt.GetTotalCallCount())
}

func TestQuote(t *testing.T) {
	ticker := fixture(t, "exchange_products_BTC-USDT_ticker.json")
	numericTradeID := bytes.Replace(ticker, []byte(`"trade_id": "18502105"`), []byte(`"trade_id": 18502105`), 1)
	require.NotEqual(t, ticker, numericTradeID)
	want := providers.Quote{
		Symbol: "BTC-USDT", Class: providers.Crypto, Provider: "coinbase",
		Price: 73367.8, Bid: 73360.34, Ask: 73369.19, Volume: 1207.50668151,
		Time: time.Date(2024, 3, 13, 11, 10, 41, 270099000, time.UTC),
	}
	tests := []struct {
		name      string
		responder httpmock.Responder
		want      providers.Quote
		wantErr   error
		wantText  string
		wantCalls int
	}{
		{name: "recorded ticker, trade_id a string", responder: providertest.RespondJSON(200, ticker), want: want, wantCalls: 1},
		{name: "trade_id an integer", responder: providertest.RespondJSON(200, numericTradeID), want: want, wantCalls: 1},
		{name: "trade_id neither", responder: providertest.RespondJSON(200, bytes.Replace(ticker, []byte(`"18502105"`), []byte(`{}`), 1)), wantErr: providers.ErrDecode, wantText: "trade_id", wantCalls: 1},
		{name: "price missing", responder: providertest.RespondJSON(200, []byte(`{"ask":"1","bid":"1","time":"2024-03-13T11:10:41.270099Z"}`)), wantErr: providers.ErrDecode, wantText: "decode price: empty", wantCalls: 1},
		{name: "price not a number", responder: providertest.RespondJSON(200, bytes.Replace(ticker, []byte(`"73367.8"`), []byte(`"NaN"`), 1)), wantErr: providers.ErrDecode, wantText: "decode price", wantCalls: 1},
		{name: "bad time", responder: providertest.RespondJSON(200, bytes.Replace(ticker, []byte(`2024-03-13T11:10:41.270099Z`), []byte(`yesterday`), 1)), wantErr: providers.ErrDecode, wantText: "decode time", wantCalls: 1},
		{name: "malformed JSON", responder: providertest.RespondJSON(200, ticker[:len(ticker)/2]), wantErr: providers.ErrDecode, wantCalls: 1},
		{name: "empty body", responder: providertest.RespondJSON(200, nil), wantErr: providers.ErrDecode, wantText: "empty body", wantCalls: 1},
		{name: "404 NotFound", responder: providertest.RespondJSON(404, []byte(`{"message":"NotFound"}`)), wantErr: providers.ErrNotFound, wantText: "NotFound", wantCalls: 1},
		{name: "400 recorded message", responder: providertest.RespondJSON(400, fixture(t, "exchange_error_400_invalid_price.json")), wantErr: providers.ErrUpstream, wantText: "coinbase-exchange: upstream error (HTTP 400): Invalid price 0", wantCalls: 1},
		{name: "HTML 502 page", responder: htmlResponder(502), wantErr: providers.ErrUpstream, wantText: "HTML page: 502 Bad Gateway", wantCalls: 3},
		{name: "500 then 503 then ticker", responder: providertest.RespondJSON(500, []byte(`{"message":"Internal server error"}`)).Then(providertest.RespondJSON(503, []byte(`{"message":"unavailable"}`))).Then(providertest.RespondJSON(200, ticker)), want: want, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			mt.RegisterResponder(http.MethodGet, exURL+"/products/BTC-USDT/ticker", tt.responder)
			got, err := c.Quote(t.Context(), "BTC-USDT")
			require.ErrorIs(t, err, tt.wantErr)
			if err != nil {
				require.ErrorContains(t, err, tt.wantText)
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.wantCalls, mt.GetTotalCallCount())
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	c, mt := newMock(t)
	ticker := fixture(t, "exchange_products_BTC-USDT_ticker.json")
	var rec providertest.Recorder
	mt.RegisterResponder(http.MethodGet, exURL+"/products/BTC-USDT/ticker",
		rec.Wrap(providertest.RespondJSON(429, []byte(`{"message":"Public rate limit exceeded"}`), "Retry-After", "1").Then(providertest.RespondJSON(200, ticker))))
	start := time.Now()
	q, err := c.Quote(t.Context(), "BTC-USDT")
	require.NoError(t, err)
	require.Equal(t, 73367.8, q.Price)
	require.GreaterOrEqual(t, time.Since(start), time.Second, "waited for Retry-After rather than the 5ms backoff")
	require.Equal(t, 2, mt.GetTotalCallCount())
}

func TestRetryAfterTooLong(t *testing.T) {
	c, mt := newMock(t, providers.WithMaxRetryAfter(time.Second))
	mt.RegisterResponder(http.MethodGet, exURL+"/products/BTC-USDT/ticker",
		providertest.RespondJSON(429, []byte(`{"message":"Public rate limit exceeded"}`), "Retry-After", "3600"))
	_, err := c.Quote(t.Context(), "BTC-USDT")
	require.ErrorIs(t, err, providers.ErrRateLimited)
	require.Equal(t, time.Hour, providers.RetryAfter(err))
	require.Equal(t, 1, mt.GetTotalCallCount(), "does not wait an hour")
}

func TestTimeout(t *testing.T) {
	c, mt := newMock(t, providers.WithTimeout(30*time.Millisecond))
	mt.RegisterResponder(http.MethodGet, exURL+"/products/BTC-USD/ticker",
		providertest.RespondJSON(200, fixture(t, "exchange_products_BTC-USDT_ticker.json")).Delay(5*time.Second))
	start := time.Now()
	_, err := c.Quote(t.Context(), "BTC-USD")
	require.ErrorIs(t, err, providers.ErrTimeout)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, 3, mt.GetTotalCallCount(), "a timeout is retried")
}

func TestUseAfterClose(t *testing.T) {
	c, mt := newMock(t)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	_, err := c.Quote(t.Context(), "BTC-USD")
	require.ErrorIs(t, err, providers.ErrClosed)
	_, err = c.Account(t.Context())
	require.ErrorIs(t, err, providers.ErrClosed)
	require.Zero(t, mt.GetTotalCallCount())
}
