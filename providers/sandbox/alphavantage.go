package sandbox

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/leakgate/leakgate/providers"
)

// Alpha Vantage answers every request with HTTP 200 and reports errors in
// the body under "Error Message", "Note" or "Information".

const (
	avMissingKey = "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
)

// avOtherFunctions are real functions the sandbox does not serve (intraday,
// weekly and monthly series): they get the "Invalid API call" answer, the
// real one for parameters the API cannot serve.
var avOtherFunctions = map[string]bool{
	"TIME_SERIES_INTRADAY": true, "TIME_SERIES_WEEKLY": true, "TIME_SERIES_WEEKLY_ADJUSTED": true,
	"TIME_SERIES_MONTHLY": true, "TIME_SERIES_MONTHLY_ADJUSTED": true, "FX_INTRADAY": true,
	"FX_WEEKLY": true, "FX_MONTHLY": true, "CRYPTO_INTRADAY": true, "DIGITAL_CURRENCY_WEEKLY": true,
	"DIGITAL_CURRENCY_MONTHLY": true,
}

// alphavantageVenue serves the Alpha Vantage query API under
// PrefixAlphaVantage.
type alphavantageVenue struct{ *core }

func (*alphavantageVenue) tooManyRequests() reply {
	return bodyReply(http.StatusTooManyRequests, ctJSON, fixture("alphavantage/error_note_call_frequency_legacy.json"))
}

// internalError: Alpha Vantage has no error JSON for a 500, so the gateway
// page stands for it.
func (*alphavantageVenue) internalError() reply { return gatewayError(http.StatusInternalServerError) }

func (av *alphavantageVenue) route(r *http.Request, rest string) reply {
	if rest != "/query" {
		return bodyReply(http.StatusNotFound, ctHTML, []byte("<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"))
	}
	q := r.URL.Query()
	if ok, _ := credential(q.Get("apikey")); !ok {
		return avError("Error Message", avMissingKey)
	}
	fn := q.Get("function")
	switch fn {
	case "TIME_SERIES_DAILY", "TIME_SERIES_DAILY_ADJUSTED":
		s, n, ok := av.avEquity(q.Get("symbol"))
		if !ok {
			return avInvalid(fn)
		}
		full, ok := avOutputSize(q.Get("outputsize"))
		if !ok {
			return avInvalid(fn)
		}
		return bodyReply(http.StatusOK, ctJSON, avDaily(nil, s, n, full, fn == "TIME_SERIES_DAILY_ADJUSTED"))
	case "GLOBAL_QUOTE":
		sym, _, err := providers.NormalizeSymbol(q.Get("symbol"))
		if err != nil {
			return avInvalid(fn)
		}
		s, i, ok := av.quoteIndex(sym)
		if !ok || s.class != providers.Equity {
			return avInvalid(fn)
		}
		return bodyReply(http.StatusOK, ctJSON, avGlobalQuote(s, i))
	case "FX_DAILY":
		from, to := strings.ToUpper(q.Get("from_symbol")), strings.ToUpper(q.Get("to_symbol"))
		s, n, ok := av.view(from + "_" + to)
		if !ok || s.class != providers.Forex {
			return avInvalid(fn)
		}
		full, ok := avOutputSize(q.Get("outputsize"))
		if !ok {
			return avInvalid(fn)
		}
		return bodyReply(http.StatusOK, ctJSON, avFXDaily(s, n, full))
	case "CURRENCY_EXCHANGE_RATE":
		from, to := strings.ToUpper(q.Get("from_currency")), strings.ToUpper(q.Get("to_currency"))
		s, i, ok := av.quoteIndex(from + "_" + to)
		if !ok {
			s, i, ok = av.quoteIndex(from + "-" + to)
		}
		if !ok {
			return avInvalid(fn)
		}
		return bodyReply(http.StatusOK, ctJSON, avExchangeRate(s, i, from, to))
	case "DIGITAL_CURRENCY_DAILY":
		sym, market := strings.ToUpper(q.Get("symbol")), strings.ToUpper(q.Get("market"))
		s, n, ok := av.view(sym + "-" + market)
		if !ok || s.class != providers.Crypto {
			return avInvalid(fn)
		}
		return bodyReply(http.StatusOK, ctJSON, avDigitalDaily(s, n, sym, market))
	}
	if avOtherFunctions[fn] {
		return avInvalid(fn)
	}
	return avError("Error Message", "This API function ("+fn+") does not exist.")
}

// avEquity resolves an equity symbol.
func (av *alphavantageVenue) avEquity(raw string) (*series, int, bool) {
	sym, class, err := providers.NormalizeSymbol(raw)
	if err != nil || class != providers.Equity {
		return nil, 0, false
	}
	return av.view(sym)
}

// avOutputSize parses outputsize: compact (the default, latest 100 bars)
// or full.
func avOutputSize(v string) (full, ok bool) {
	switch v {
	case "", "compact":
		return false, true
	case "full":
		return true, true
	}
	return false, false
}

// avError is a one-key error body, 4-space indented like the API's.
func avError(key, msg string) reply {
	b := []byte("{\n    ")
	b = appendStr(b, key)
	b = append(b, ": "...)
	b = appendStr(b, msg)
	b = append(b, "\n}"...)
	return bodyReply(http.StatusOK, ctJSON, b)
}

// avInvalid is the recorded "Invalid API call" body naming fn.
func avInvalid(fn string) reply {
	b := bytes.Replace(fixture("alphavantage/error_message_invalid_api_call.json"), []byte("for FX_DAILY."), []byte("for "+fn+"."), 1)
	return bodyReply(http.StatusOK, ctJSON, b)
}

func avSize(full bool) string {
	if full {
		return "Full size"
	}
	return "Compact"
}

// avWindow is the index range of the bars a daily series answer holds.
func avWindow(n int, full bool) int {
	if full {
		return 0
	}
	return max(0, n-100)
}

// avMeta appends one "key": "value" line of a Meta Data object.
func avLine(b []byte, indent, key, val string, last bool) []byte {
	b = append(b, indent...)
	b = appendStr(b, key)
	b = append(b, ": "...)
	b = appendStr(b, val)
	if !last {
		b = append(b, ',')
	}
	return append(b, '\n')
}

// avField appends one "key": "decimal" line of a bar.
func avField(b []byte, key string, v float64, dec int, last bool) []byte {
	b = append(b, "            "...)
	b = appendStr(b, key)
	b = append(b, ": "...)
	b = appendDecStr(b, v, dec)
	if !last {
		b = append(b, ',')
	}
	return append(b, '\n')
}

// avDaily renders TIME_SERIES_DAILY(_ADJUSTED) for bars[:n] of s, newest
// first. Prices carry at least four decimals, volumes none.
func avDaily(b []byte, s *series, n int, full, adjusted bool) []byte {
	from := avWindow(n, full)
	if b == nil {
		b = make([]byte, 0, 512+(n-from)*(200+80*btoi(adjusted)))
	}
	info := "Daily Prices (open, high, low, close) and Volumes"
	if adjusted {
		info = "Daily Time Series with Splits and Dividend Events"
	}
	b = append(b, "{\n    \"Meta Data\": {\n"...)
	b = avLine(b, "        ", "1. Information", info, false)
	b = avLine(b, "        ", "2. Symbol", s.symbol, false)
	b = avLine(b, "        ", "3. Last Refreshed", s.dates[n-1], false)
	b = avLine(b, "        ", "4. Output Size", avSize(full), false)
	b = avLine(b, "        ", "5. Time Zone", "US/Eastern", true)
	b = append(b, "    },\n    \"Time Series (Daily)\": {\n"...)
	for i := n - 1; i >= from; i-- {
		bar := s.bars[i]
		b = append(b, "        "...)
		b = appendStr(b, s.dates[i])
		b = append(b, ": {\n"...)
		b = avField(b, "1. open", bar.Open, 4, false)
		b = avField(b, "2. high", bar.High, 4, false)
		b = avField(b, "3. low", bar.Low, 4, false)
		b = avField(b, "4. close", bar.Close, 4, false)
		if adjusted {
			b = avField(b, "5. adjusted close", s.adj[i], 4, false)
			b = avField(b, "6. volume", bar.Volume, 0, false)
			b = avField(b, "7. dividend amount", 0, 4, false)
			b = avField(b, "8. split coefficient", 1, 4, true)
		} else {
			b = avField(b, "5. volume", bar.Volume, 0, true)
		}
		b = append(b, "        }"...)
		if i > from {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	return append(b, "    }\n}"...)
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// avFXDaily renders FX_DAILY: mid prices, no volume.
func avFXDaily(s *series, n int, full bool) []byte {
	from := avWindow(n, full)
	base, quote, _ := providers.SplitPair(s.symbol)
	b := make([]byte, 0, 512+(n-from)*170)
	b = append(b, "{\n    \"Meta Data\": {\n"...)
	b = avLine(b, "        ", "1. Information", "Forex Daily Prices (open, high, low, close)", false)
	b = avLine(b, "        ", "2. From Symbol", base, false)
	b = avLine(b, "        ", "3. To Symbol", quote, false)
	b = avLine(b, "        ", "4. Output Size", avSize(full), false)
	b = avLine(b, "        ", "5. Last Refreshed", s.dates[n-1]+" 00:00:00", false)
	b = avLine(b, "        ", "6. Time Zone", "UTC", true)
	b = append(b, "    },\n    \"Time Series FX (Daily)\": {\n"...)
	for i := n - 1; i >= from; i-- {
		bar := s.bars[i]
		b = append(b, "        "...)
		b = appendStr(b, s.dates[i])
		b = append(b, ": {\n"...)
		b = avField(b, "1. open", bar.Open, 4, false)
		b = avField(b, "2. high", bar.High, 4, false)
		b = avField(b, "3. low", bar.Low, 4, false)
		b = avField(b, "4. close", bar.Close, 4, true)
		b = append(b, "        }"...)
		if i > from {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	return append(b, "    }\n}"...)
}

var currencyNames = map[string]string{
	"USD": "United States Dollar", "EUR": "Euro", "BTC": "Bitcoin",
}

// avDigitalDaily renders DIGITAL_CURRENCY_DAILY in its 2024+ shape.
func avDigitalDaily(s *series, n int, sym, market string) []byte {
	b := make([]byte, 0, 512+n*220)
	b = append(b, "{\n    \"Meta Data\": {\n"...)
	b = avLine(b, "        ", "1. Information", "Daily Prices and Volumes for Digital Currency", false)
	b = avLine(b, "        ", "2. Digital Currency Code", sym, false)
	b = avLine(b, "        ", "3. Digital Currency Name", currencyNames[sym], false)
	b = avLine(b, "        ", "4. Market Code", market, false)
	b = avLine(b, "        ", "5. Market Name", currencyNames[market], false)
	b = avLine(b, "        ", "6. Last Refreshed", s.dates[n-1]+" 00:00:00", false)
	b = avLine(b, "        ", "7. Time Zone", "UTC", true)
	b = append(b, "    },\n    \"Time Series (Digital Currency Daily)\": {\n"...)
	for i := n - 1; i >= 0; i-- {
		bar := s.bars[i]
		b = append(b, "        "...)
		b = appendStr(b, s.dates[i])
		b = append(b, ": {\n"...)
		b = avField(b, "1. open", bar.Open, 8, false)
		b = avField(b, "2. high", bar.High, 8, false)
		b = avField(b, "3. low", bar.Low, 8, false)
		b = avField(b, "4. close", bar.Close, 8, false)
		b = avField(b, "5. volume", bar.Volume, 8, true)
		b = append(b, "        }"...)
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	return append(b, "    }\n}"...)
}

// avGlobalQuote renders GLOBAL_QUOTE from bar i (and the one before).
func avGlobalQuote(s *series, i int) []byte {
	bar := s.bars[i]
	prev := bar.Open
	if i > 0 {
		prev = s.bars[i-1].Close
	}
	change := bar.Close - prev
	pct := 0.0
	if prev != 0 {
		pct = change / prev * 100
	}
	b := make([]byte, 0, 512)
	b = append(b, "{\n    \"Global Quote\": {\n"...)
	line := func(key string, val []byte, last bool) {
		b = append(b, "        "...)
		b = appendStr(b, key)
		b = append(b, ": \""...)
		b = append(b, val...)
		b = append(b, '"')
		if !last {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	line("01. symbol", []byte(s.symbol), false)
	line("02. open", appendDec(nil, bar.Open, 4), false)
	line("03. high", appendDec(nil, bar.High, 4), false)
	line("04. low", appendDec(nil, bar.Low, 4), false)
	line("05. price", appendDec(nil, bar.Close, 4), false)
	line("06. volume", appendDec(nil, bar.Volume, 0), false)
	line("07. latest trading day", []byte(s.dates[i]), false)
	line("08. previous close", appendDec(nil, prev, 4), false)
	line("09. change", strconv.AppendFloat(nil, change, 'f', 4, 64), false)
	line("10. change percent", append(strconv.AppendFloat(nil, pct, 'f', 4, 64), '%'), true)
	return append(b, "    }\n}"...)
}

// avExchangeRate renders CURRENCY_EXCHANGE_RATE with bid and ask (the
// 2019+ shape) from bar i.
func avExchangeRate(s *series, i int, from, to string) []byte {
	bar := s.bars[i]
	bid, ask := quoteSides(s, i)
	b := make([]byte, 0, 512)
	b = append(b, "{\n    \"Realtime Currency Exchange Rate\": {\n"...)
	b = avLine(b, "        ", "1. From_Currency Code", from, false)
	b = avLine(b, "        ", "2. From_Currency Name", currencyNames[from], false)
	b = avLine(b, "        ", "3. To_Currency Code", to, false)
	b = avLine(b, "        ", "4. To_Currency Name", currencyNames[to], false)
	b = avLine(b, "        ", "5. Exchange Rate", string(appendDec(nil, bar.Close, 8)), false)
	b = avLine(b, "        ", "6. Last Refreshed", s.dates[i]+" 23:59:59", false)
	b = avLine(b, "        ", "7. Time Zone", "UTC", false)
	b = avLine(b, "        ", "8. Bid Price", string(appendDec(nil, bid, 8)), false)
	b = avLine(b, "        ", "9. Ask Price", string(appendDec(nil, ask, 8)), true)
	return append(b, "    }\n}"...)
}

// quoteSides returns the bid and ask of bar i: the recorded closing bid and
// ask for forex, the close minus and plus one cent otherwise.
func quoteSides(s *series, i int) (bid, ask float64) {
	if s.bid != nil {
		return s.bid[i].c, s.ask[i].c
	}
	c := s.bars[i].Close
	return round6(c - 0.01), round6(c + 0.01)
}

// round6 rounds v to six decimals, the precision of the embedded prices.
func round6(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 6, 64), 64)
	return r
}
