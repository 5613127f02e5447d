package suite

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a problem with a suite file: where it is and what is wrong.
// Every error of Load, Parse, Builtin and Scenarios that comes from the
// suite's content is an *Error; the leakgate CLI reports it as a usage
// error. Test with errors.As.
type Error struct {
	// File is the suite's file name, as given to Load or Parse.
	File string
	// Line is the 1-based line of the offending value, or 0 when the
	// problem is not on one line (a file that cannot be read).
	Line int
	// Field is the path of the offending field, such as "iterations" or
	// "declared[0].spawn.ready.url", or "" for a YAML syntax error.
	Field string
	// Err says what is wrong.
	Err error
}

// Error returns "file:line: field: message", leaving out the line and the
// field when they are not known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// decoder walks a YAML node tree and reports errors with the file name,
// the node's line and the field's path.
type decoder struct {
	file string
}

func (d *decoder) errf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Field: field, Err: fmt.Errorf(format, args...)}
}

// yamlLine finds the line in the syntax errors of the yaml package.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns an error of yaml.Unmarshal into an *Error.
func (d *decoder) syntaxError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: d.file, Line: line, Err: errors.New(m[2])}
	}
	return &Error{File: d.file, Line: 1, Err: errors.New(strings.TrimPrefix(err.Error(), "yaml: "))}
}

// field is one known key of a mapping and how to decode its value.
type field struct {
	key    string
	decode func(v *yaml.Node, path string) error
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		}
		return fmt.Sprintf("the string %q", n.Value)
	}
	return "nothing"
}

// mapping decodes a mapping whose keys must be among fields. It returns
// the keys it saw, with their key nodes.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) (map[string]*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, path, "want a mapping, got %s", kindName(n))
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, d.errf(k, path, "want a field name, got %s", kindName(k))
		}
		fp := join(path, k.Value)
		if _, dup := seen[k.Value]; dup {
			return nil, d.errf(k, fp, "field given twice")
		}
		seen[k.Value] = k
		j := slices.IndexFunc(fields, func(f field) bool { return f.key == k.Value })
		if j < 0 {
			known := make([]string, len(fields))
			for i, f := range fields {
				known[i] = f.key
			}
			return nil, d.errf(k, fp, "unknown field (known: %s)", strings.Join(known, ", "))
		}
		if err := fields[j].decode(resolve(v), fp); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// stringMap decodes a mapping of names to scalar values.
func (d *decoder) stringMap(n *yaml.Node, path string) (map[string]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errf(n, path, "want a mapping, got %s", kindName(n))
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return nil, d.errf(k, path, "want a name, got %s", kindName(k))
		}
		fp := join(path, k.Value)
		if _, dup := out[k.Value]; dup {
			return nil, d.errf(k, fp, "given twice")
		}
		s, err := d.str(v, fp)
		if err != nil {
			return nil, err
		}
		out[k.Value] = s
	}
	return out, nil
}

// str decodes a scalar as a string. Numbers and booleans are taken as
// written; null is an error.
func (d *decoder) str(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", d.errf(n, path, "want a string, got %s", kindName(n))
	}
	return n.Value, nil
}

// text decodes a non-empty string.
func (d *decoder) text(n *yaml.Node, path string) (string, error) {
	s, err := d.str(n, path)
	if err == nil && strings.TrimSpace(s) == "" {
		err = d.errf(n, path, "must not be empty")
	}
	return s, err
}

func (d *decoder) integer(n *yaml.Node, path string) (int, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, d.errf(n, path, "want an integer, got %s", kindName(n))
	}
	v, err := strconv.ParseInt(n.Value, 0, 0)
	if err != nil {
		return 0, d.errf(n, path, "want an integer: %v", err)
	}
	return int(v), nil
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, d.errf(n, path, "want true or false, got %s", kindName(n))
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, d.errf(n, path, "want true or false: %v", err)
	}
	return b, nil
}

// duration decodes a positive time.ParseDuration string such as "2s".
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return 0, d.errf(n, path, "want a duration such as 2s or 10m, got %s", kindName(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return 0, d.errf(n, path, "want a duration such as 2s or 10m: %v", err)
	}
	if v <= 0 {
		return 0, d.errf(n, path, "must be positive, got %s", n.Value)
	}
	return v, nil
}

// list decodes a list of scalars, or one scalar as a list of one, and
// returns the item nodes too for their lines.
func (d *decoder) list(n *yaml.Node, path string) ([]string, []*yaml.Node, error) {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
	default:
		return nil, nil, d.errf(n, path, "want a string or a list of strings, got %s", kindName(n))
	}
	out := make([]string, len(items))
	for i, it := range items {
		it = resolve(it)
		s, err := d.text(it, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, nil, err
		}
		out[i], items[i] = s, it
	}
	return out, items, nil
}

// command decodes a non-empty list of arguments.
func (d *decoder) command(n *yaml.Node, path string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, path, "want a list of arguments such as [\"./bin/svc\", \"--port\", \"0\"], got %s", kindName(n))
	}
	if len(n.Content) == 0 {
		return nil, d.errf(n, path, "must name a program")
	}
	out := make([]string, len(n.Content))
	for i, it := range n.Content {
		s, err := d.str(resolve(it), fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	if strings.TrimSpace(out[0]) == "" {
		return nil, d.errf(n, path+"[0]", "must name a program")
	}
	return out, nil
}
