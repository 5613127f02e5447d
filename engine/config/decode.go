package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leakgate/leakgate/providers"
)

var durationType = reflect.TypeFor[time.Duration]()

// decode merges the YAML document data into cfg. Keys are checked against
// Config first, so that an unknown or secret key is reported with its line
// and the keys that are valid there.
func decode(cfg *Config, file string, data []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return &Error{File: file, Err: fmt.Errorf("not valid YAML: %w", err)}
	}
	if len(root.Content) == 0 {
		return nil // empty file
	}
	if err := checkNode(file, root.Content[0], reflect.TypeFor[Config](), ""); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return &Error{File: file, Err: cleanYAMLError(err)}
	}
	return nil
}

func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return errors.New(msg)
}

// yamlName returns the YAML key of a struct field, or "" if it has none.
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

// knownMapKeys returns the keys allowed in the map at path, or nil when any
// key is.
func knownMapKeys(path string) []string {
	switch path {
	case "providers":
		return ProviderNames
	case "routing":
		return []string{string(providers.Equity), string(providers.Crypto), string(providers.Forex)}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkNode compares n with the type it decodes into.
func checkNode(file string, n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	at := func(line int, format string, args ...any) error {
		return &Error{File: file, Line: line, Err: fmt.Errorf(format, args...)}
	}
	where := path
	if where == "" {
		where = "the top level"
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			return at(n.Line, "%s: want a duration such as 90s, 15m or 24h", path)
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			return at(n.Line, "%s: %q is not a duration; use a number with a unit, such as 90s, 15m or 24h", path, n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return at(n.Line, "%s: want a mapping of keys (%s)", where, strings.Join(structKeys(t), ", "))
		}
		fields := map[string]reflect.StructField{}
		for i := range t.NumField() {
			if name := yamlName(t.Field(i)); name != "" {
				fields[name] = t.Field(i)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			switch {
			case ok:
				if err := checkNode(file, v, f.Type, join(path, k.Value)); err != nil {
					return err
				}
			case secretKeys[k.Value]:
				return at(k.Line, "%s: secrets are not read from the config file; set %s or %s_file to a file with mode 0600",
					join(path, k.Value), secretEnvHint(path, k.Value), join(path, k.Value))
			default:
				return at(k.Line, "unknown key %q in %s; valid keys: %s", k.Value, where, strings.Join(structKeys(t), ", "))
			}
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			return at(n.Line, "%s: want a mapping", where)
		}
		known := knownMapKeys(path)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if known != nil && !contains(known, k.Value) {
				return at(k.Line, "unknown key %q in %s; valid keys: %s", k.Value, where, strings.Join(known, ", "))
			}
			if err := checkNode(file, v, t.Elem(), join(path, k.Value)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return at(n.Line, "%s: want a list, such as [a, b]", path)
		}
		for i, c := range n.Content {
			if err := checkNode(file, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return at(n.Line, "%s: want a single value", path)
		}
		return checkScalar(n, t, path, at)
	}
	return nil
}

// finiteHint is the one rule for numbers from every source.
const finiteHint = "want a finite number (NaN and infinities are not numbers a setting can take)"

// checkScalar decodes the scalar n as t does, so that a value of the wrong
// type is reported with its key and line, and refuses non-finite numbers.
func checkScalar(n *yaml.Node, t reflect.Type, path string, at func(int, string, ...any) error) error {
	want := ""
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		want = "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "a whole number"
	case reflect.Bool:
		want = "true or false"
	case reflect.String:
		want = "text"
	default:
		return nil
	}
	v := reflect.New(t)
	// yaml truncates a float such as 1.5 into an int; a whole number is
	// asked for.
	wrongInt := want == "a whole number" && n.ShortTag() != "!!int"
	if err := n.Decode(v.Interface()); err != nil || wrongInt {
		return at(n.Line, "%s: cannot parse %q as %s", path, n.Value, want)
	}
	if k := t.Kind(); k == reflect.Float32 || k == reflect.Float64 {
		if f := v.Elem().Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return at(n.Line, "%s: %s: %s", path, n.Value, finiteHint)
		}
	}
	return nil
}

// firstNonFinite returns the YAML path and value of the first float setting
// under v that is NaN or infinite.
func firstNonFinite(v reflect.Value, path string) (string, float64, bool) {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return path, f, true
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return firstNonFinite(v.Elem(), path)
		}
	case reflect.Struct:
		if v.Type() == durationType {
			return "", 0, false
		}
		for i := range v.NumField() {
			if name := yamlName(v.Type().Field(i)); name != "" {
				if k, f, ok := firstNonFinite(v.Field(i), join(path, name)); ok {
					return k, f, true
				}
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			if p, f, ok := firstNonFinite(v.MapIndex(k), join(path, k.String())); ok {
				return p, f, true
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if p, f, ok := firstNonFinite(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, f, true
			}
		}
	}
	return "", 0, false
}

func secretEnvHint(path, key string) string {
	owner := strings.TrimPrefix(path, "providers.")
	for _, s := range SecretSpecs() {
		if s.Provider == owner && s.Name == key {
			return s.Env
		}
	}
	return "the matching FFE_ environment variable"
}

func structKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// EnvName returns the environment variable that overrides the setting at
// a YAML path such as "risk.max_position_share".
func EnvName(path string) string {
	return "FFE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(path))
}

// applyEnv overrides settings from FFE_* variables.
func applyEnv(cfg *Config, env func(string) (string, bool)) error {
	for _, n := range ProviderNames {
		if _, ok := cfg.Providers[n]; !ok {
			cfg.Providers[n] = Provider{}
		}
	}
	return envValue(reflect.ValueOf(cfg).Elem(), "", env)
}

func envValue(v reflect.Value, path string, env func(string) (string, bool)) error {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Struct && t != durationType:
		for i := range t.NumField() {
			name := yamlName(t.Field(i))
			if name == "" {
				continue
			}
			if err := envValue(v.Field(i), join(path, name), env); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Map:
		keys := knownMapKeys(path)
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		for _, k := range keys {
			kv := reflect.ValueOf(k).Convert(t.Key())
			elem := reflect.New(t.Elem()).Elem()
			old := v.MapIndex(kv)
			if old.IsValid() {
				elem.Set(old)
			}
			before := fmt.Sprint(elem.Interface())
			if err := envValue(elem, join(path, k), env); err != nil {
				return err
			}
			if old.IsValid() || fmt.Sprint(elem.Interface()) != before {
				v.SetMapIndex(kv, elem)
			}
		}
		return nil
	}
	name := EnvName(path)
	s, ok := env(name)
	if !ok {
		return nil
	}
	if err := setScalar(v, s); err != nil {
		return &Error{Err: fmt.Errorf("%s=%q: %w", name, s, err)}
	}
	return nil
}

func setScalar(v reflect.Value, s string) error {
	s = strings.TrimSpace(s)
	t := v.Type()
	switch {
	case t == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("want a duration such as 90s, 15m or 24h")
		}
		v.SetInt(int64(d))
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("want true or false")
		}
		v.Set(reflect.ValueOf(&b))
	case t.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("want true or false")
		}
		v.SetBool(b)
	case t.Kind() == reflect.String:
		v.SetString(s)
	case t.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return errors.New("want a whole number")
		}
		v.SetInt(int64(n))
	case t.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errors.New("want a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New(finiteHint)
		}
		v.SetFloat(f)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		var list []string
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
		out := reflect.MakeSlice(t, len(list), len(list))
		for i, p := range list {
			out.Index(i).Set(reflect.ValueOf(p).Convert(t.Elem()))
		}
		v.Set(out)
	default:
		return fmt.Errorf("settings of type %s cannot be set from the environment", t)
	}
	return nil
}

// WriteYAML writes the effective configuration as YAML, followed by a
// secrets section that shows, for each secret, its environment variable and
// REDACTED or unset. No secret value is written.
func (c *Config) WriteYAML(w io.Writer) error {
	doc := struct {
		File    string                  `yaml:"config_file"`
		Config  Config                  `yaml:",inline"`
		Secrets map[string]SecretStatus `yaml:"secrets"`
	}{File: c.File, Config: *c, Secrets: c.SecretsReport()}
	if doc.File == "" {
		doc.File = "(none: defaults)"
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// Map returns the effective configuration as generic values, with the
// secrets section of WriteYAML, for JSON output.
func (c *Config) Map() (map[string]any, error) {
	var buf bytes.Buffer
	if err := c.WriteYAML(&buf); err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(buf.Bytes(), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// knownEnvNames returns every FFE_* variable Load reads.
func knownEnvNames() []string {
	seen := map[string]bool{"FFE_CONFIG": true}
	record := func(name string) (string, bool) { seen[name] = true; return "", false }
	_ = envValue(reflect.ValueOf(Default()).Elem(), "", record)
	for _, s := range SecretSpecs() {
		seen[s.Env], seen[s.Env+"_FILE"] = true, true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// unknownEnvWarnings returns a warning for each FFE_* variable in environ
// that names no setting (and that env sees), with the closest known name.
// Values are never part of a warning.
func unknownEnvWarnings(environ []string, env func(string) (string, bool)) []string {
	known := knownEnvNames()
	var names []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "FFE_") || slices.Contains(known, name) || slices.Contains(names, name) {
			continue
		}
		if _, ok := env(name); !ok {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var out []string
	for _, name := range names {
		best, bestD := "", -1
		for _, k := range known {
			if d := editDistance(name, k); bestD < 0 || d < bestD {
				best, bestD = k, d
			}
		}
		out = append(out, fmt.Sprintf("environment variable %s names no setting and is ignored; did you mean %s?", name, best))
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
