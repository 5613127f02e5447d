package server

import (
	"strings"
	"testing"

	"github.com/leakgate/leakgate/engine/export"
)

// FuzzDecodeTrigger feeds trigger bodies to the request decoder and to
// Resolve: neither may panic, and no error may repeat a long input.
func FuzzDecodeTrigger(f *testing.F) {
	huge := strings.Repeat("x", 4096)
	for _, seed := range []string{``, `{}`, ` `, `{"symbols":[]}`, `{"Symbols":["AAPL"]}`, `{"RANGE":"1y"}`,
		`{"symbols":["AAPL","SPY"],"range":"2016-01-01/2016-12-31","formats":["csv"],"crew":true}`,
		`{"range":"0001-01-01/9999-12-31"}`, `{"range":"101y"}`, `{"symbols":"AAPL"}`, `{"crew":"yes"}`,
		`{"symbols":[`, `{symbols}`, `{} {}`, `[]`, `null`, `{"symbols":null}`, `{"formats":["csv","xml"]}`,
		`{"range":"` + huge + `"}`, `{"` + huge + `":1}`, `{"symbols":["` + huge + `"]}`, `{"interval":"` + huge + `"}`} {
		f.Add([]byte(seed))
	}
	defaults := export.Defaults{Symbols: []string{"AAPL"}, Range: "1y", Interval: "1d"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req export.Request
		if fe := decodeJSON(data, &req); fe != nil {
			if len(fe.Field)+len(fe.Detail) > 1024 {
				t.Fatalf("decode error of %d bytes", len(fe.Field)+len(fe.Detail))
			}
			return
		}
		_, err := req.Resolve(defaults, marketNow)
		for _, fe := range export.FieldErrors(err) {
			if len(fe.Detail) > 1024 {
				t.Fatalf("%s: detail of %d bytes", fe.Field, len(fe.Detail))
			}
		}
	})
}
