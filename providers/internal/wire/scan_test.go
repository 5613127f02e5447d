package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// skipAll reports whether a Scanner reads b as exactly one JSON value.
func skipAll(b []byte) error {
	s := NewScanner(b)
	if err := s.Skip(); err != nil {
		return err
	}
	return s.End()
}

func TestSkipMatchesJSONValid(t *testing.T) {
	for _, give := range []string{
		``, ` `, `0`, `-0`, `01`, `1.`, `.5`, `+1`, `1e`, `1e+5`, `-1.25E-3`, `1 2`, `1x`, `NaN`, `Infinity`,
		`"`, `""`, `"a`, `"\u00e9\n\t\/\\\""`, `"\u00zz"`, `"\x"`, "\"\x01\"", "\"\x7f\xff\"", `"\uD800"`,
		`true`, `false`, `null`, `nul`, `True`, `truefalse`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `[1,[2,[3]]]`,
		`{}`, `{ }`, `{"a":1}`, `{"a" 1}`, `{"a":}`, `{"a":1,}`, `{1:2}`, `{"a":1 "b":2}`, `{"a":[{"b":null}]}`,
		`{"a":1}}`, `[[]`, " \t\r\n[ 1 , { \"k\" : \"v\" } ] \n", "[1]\x00",
	} {
		err := skipAll([]byte(give))
		if want := json.Valid([]byte(give)); (err == nil) != want {
			t.Errorf("%q: Skip says %v, json.Valid says %v", give, err, want)
		}
	}
}

func TestSkipDepth(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if err := skipAll([]byte(ok)); err != nil {
		t.Fatalf("%d levels: %v", MaxDepth+1, err)
	}
	deep := "[" + ok + "]"
	if err := skipAll([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nesting deeper") {
		t.Fatalf("%d levels: got %v, want a nesting error", MaxDepth+2, err)
	}
}

// TestWalk reads an object member by member, as the decoders do.
func TestWalk(t *testing.T) {
	s := NewScanner([]byte(` {"n": -1.5e2, "s": "a\u00e9", "r": "x\"y", "b": true, "skip": {"x": [1, "2", null]}, "l": [1, 2]} `))
	if !s.Consume('{') {
		t.Fatal("want {")
	}
	var got []string
	for more := !s.Consume('}'); more; {
		k, err := s.Key()
		if err != nil {
			t.Fatal(err)
		}
		switch string(k) {
		case "n":
			f, err := s.Float()
			if err != nil || f != -150 {
				t.Fatalf("n: %v, %v", f, err)
			}
		case "s":
			v, err := s.Unquote()
			if err != nil || string(v) != "aé" {
				t.Fatalf("s: %q, %v", v, err)
			}
		case "r":
			v, esc, err := s.RawString()
			if err != nil || !esc || string(v) != `x\"y` {
				t.Fatalf("r: %q, %v, %v", v, esc, err)
			}
		case "b":
			v, err := s.Bool()
			if err != nil || !v {
				t.Fatalf("b: %v, %v", v, err)
			}
		case "l":
			if !s.Consume('[') {
				t.Fatal("l: want [")
			}
			for m := true; m; {
				lit, err := s.Number()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(lit))
				if m, err = s.NextElement(); err != nil {
					t.Fatal(err)
				}
			}
		default:
			if err := s.Skip(); err != nil {
				t.Fatal(err)
			}
		}
		if more, err = s.NextMember(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.End(); err != nil || s.Peek() != 0 {
		t.Fatalf("end: %v, peek %q", err, s.Peek())
	}
	if strings.Join(got, ",") != "1,2" {
		t.Fatalf("l: %q", got)
	}
}

func TestScannerErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		read func(s *Scanner) error
		want string
	}{
		{"number", `x`, func(s *Scanner) error { _, err := s.Number(); return err }, `want a number, got "x"`},
		{"minus alone", `-]`, func(s *Scanner) error { _, err := s.Number(); return err }, `want a number, got "-]"`},
		{"point without digits", `1.e5`, func(s *Scanner) error { _, err := s.Number(); return err }, `bad number "1."`},
		{"exponent without digits", `2e+]`, func(s *Scanner) error { _, err := s.Number(); return err }, `bad number "2e+"`},
		{"overflow", `1e999`, func(s *Scanner) error { _, err := s.Float(); return err }, `"1e999" is not a finite number`},
		{"end", ``, func(s *Scanner) error { _, err := s.Number(); return err }, `want a number, got end of input`},
		{"string", `1`, func(s *Scanner) error { _, err := s.Unquote(); return err }, `want a string, got "1"`},
		{"open string", `"abc`, func(s *Scanner) error { _, err := s.Unquote(); return err }, `unexpected end of input`},
		{"control", "\"a\nb\"", func(s *Scanner) error { _, err := s.Unquote(); return err }, `control character 0xa in string`},
		{"escape", `"\q"`, func(s *Scanner) error { _, err := s.Unquote(); return err }, `bad escape \q in string`},
		{"colon", `"k" 1`, func(s *Scanner) error { _, err := s.Key(); return err }, `want : after key "k", got "1"`},
		{"bool", `null`, func(s *Scanner) error { _, err := s.Bool(); return err }, `want true or false`},
		{"literal", `nope`, func(s *Scanner) error { _, err := s.Literal(); return err }, `want a value, got "nope"`},
		{"member", `1`, func(s *Scanner) error { _, err := s.NextMember(); return err }, `want , or } in object, got "1"`},
		{"element", `}`, func(s *Scanner) error { _, err := s.NextElement(); return err }, `want , or ] in array, got "}"`},
		{"trailing", `1 2`, func(s *Scanner) error { _ = s.Skip(); return s.End() }, `unexpected data after the value: "2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewScanner([]byte(tt.give))
			err := tt.read(&s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	s := NewScanner([]byte(`"abc`))
	if _, err := s.Unquote(); !errors.Is(err, ErrEnd) {
		t.Fatalf("got %v, want ErrEnd", err)
	}
	s = NewScanner([]byte(`1e999`))
	if _, err := s.Float(); !errors.Is(err, ErrRange) {
		t.Fatalf("got %v, want ErrRange", err)
	}
}

func TestNearIsShort(t *testing.T) {
	s := NewScanner([]byte(strings.Repeat("x", 100)))
	if got := s.Near(); got != `"`+strings.Repeat("x", 40)+`"` {
		t.Fatalf("Near() = %s", got)
	}
}

// FuzzSkip checks that a Scanner accepts exactly the JSON that
// encoding/json accepts (nesting up to MaxDepth).
func FuzzSkip(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\u00e9",true,null,{}]}`, `[1,]`, `01`, `"\x"`, `{"a" 1}`, ` [ ] `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := skipAll(b)
		if err != nil && strings.Contains(err.Error(), "nesting deeper") {
			return
		}
		if want := json.Valid(b); (err == nil) != want {
			t.Fatalf("%q: Skip says %v, json.Valid says %v", b, err, want)
		}
	})
}
