package sandbox

import (
	"bytes"
	"embed"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

//go:embed data/upstream
var upstreamFS embed.FS

// fixture returns a recorded response copied into data/upstream.
func fixture(name string) []byte {
	b, err := upstreamFS.ReadFile("data/upstream/" + name)
	if err != nil {
		panic("sandbox: missing embedded fixture (a bug in this package): " + err.Error())
	}
	return b
}

// appendDec appends v in decimal with at least minDec digits after the
// point and as many more as it takes to round-trip v exactly, the way the
// string-valued APIs spell prices ("122.6700").
func appendDec(b []byte, v float64, minDec int) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	dot := -1
	for i := start; i < len(b); i++ {
		if b[i] == '.' {
			dot = i
			break
		}
	}
	have := 0
	if dot < 0 {
		if minDec == 0 {
			return b
		}
		b = append(b, '.')
	} else {
		have = len(b) - dot - 1
	}
	for ; have < minDec; have++ {
		b = append(b, '0')
	}
	return b
}

// appendNum appends v as a JSON number in its shortest exact form.
func appendNum(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendStr appends s as a JSON string.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

const hex = "0123456789abcdef"

// appendDecStr appends v as a JSON string via appendDec.
func appendDecStr(b []byte, v float64, minDec int) []byte {
	b = append(b, '"')
	b = appendDec(b, v, minDec)
	return append(b, '"')
}

// object is a JSON object that keeps its keys in order, for answers built
// from a recorded response: the recorded keys stay where they were and the
// sandbox replaces the values it owns.
type object []member

type member struct {
	key string
	val json.RawMessage
}

// parseObject reads a JSON object, keeping each value raw.
func parseObject(b []byte) object {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		panic("sandbox: template is not a JSON object (a bug in this package)")
	}
	var o object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			panic("sandbox: template: " + err.Error())
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			panic("sandbox: template: " + err.Error())
		}
		o = append(o, member{tok.(string), raw})
	}
	return o
}

// clone returns a copy whose members can be replaced independently.
func (o object) clone() object { return slices.Clone(o) }

// get returns the raw value of key, or nil.
func (o object) get(key string) json.RawMessage {
	for _, m := range o {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// sub parses the object value of key.
func (o object) sub(key string) object { return parseObject(o.get(key)) }

// set replaces the value of key (appending it when absent) with v
// marshalled; an object value is marshalled in order.
func (o object) set(key string, v any) object {
	raw, err := json.Marshal(v)
	if err != nil {
		panic("sandbox: marshal template value (a bug in this package): " + err.Error())
	}
	for i := range o {
		if o[i].key == key {
			o[i].val = raw
			return o
		}
	}
	return append(o, member{key, raw})
}

// del removes key.
func (o object) del(key string) object {
	return slices.DeleteFunc(o, func(m member) bool { return m.key == key })
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, m.key)
		b = append(b, ':')
		b = append(b, m.val...)
	}
	return append(b, '}'), nil
}
