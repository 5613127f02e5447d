package scenarios

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/leakgate/leakgate/harness"
)

// Mode is how a scenario reaches the market-data and trading APIs.
type Mode string

// Modes.
const (
	// Mock sends every provider request through httpmock, answered from
	// the recorded data; a request no responder matches fails the
	// scenario with its method and URL. No socket is opened.
	Mock Mode = "mock"
	// Live sends real HTTP over real sockets: to the sandbox served on
	// loopback, or to the real APIs for the scenarios that need keys.
	Live Mode = "live"
)

// AllModes lists the modes in report order.
var AllModes = []Mode{Mock, Live}

// ParseMode reads "mock", "live" or "both".
func ParseMode(s string) ([]Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case string(Mock):
		return []Mode{Mock}, nil
	case string(Live):
		return []Mode{Live}, nil
	case "both", "":
		return slices.Clone(AllModes), nil
	}
	return nil, fmt.Errorf("mode %q: want mock, live or both", s)
}

// ErrSkipped marks a scenario that cannot run here, such as one against a
// real API without its key. A skipped scenario is reported as skipped,
// never as passed. Test with errors.Is.
var ErrSkipped = errors.New("skipped")

// Skip returns an error that matches ErrSkipped and says why.
func Skip(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSkipped, fmt.Sprintf(format, args...))
}

// Scenario is one named leak check over the engine, registered in the
// package's registry (All, Lookup, Match).
type Scenario struct {
	// Name identifies the scenario: "group/name", such as "cmd/analyze" or
	// "export/in-process". Suites select scenarios by name or glob.
	Name string
	// Description says in one line what one iteration does.
	Description string
	// Modes are the modes the scenario applies to; in any other it is n/a.
	Modes []Mode
	// Build prepares the scenario for one of its modes. It returns an
	// error matching ErrSkipped when the scenario cannot run here.
	Build func(env *Env) (*Run, error)
}

// Applies reports whether the scenario runs in mode m.
func (s Scenario) Applies(m Mode) bool { return slices.Contains(s.Modes, m) }

// Run is a scenario built for one mode: what the harness repeats, and the
// options it needs (probes, a target other than this process, thresholds
// the scenario is known to need).
type Run struct {
	Scenario harness.Scenario
	Options  []harness.Option
}

// Env is where a scenario runs.
type Env struct {
	// Mode is the mode the scenario is built for.
	Mode Mode
	// Dir is a directory of the scenario's own, empty at the start and
	// removed by the caller afterwards.
	Dir string
	// LookupEnv reads the user's environment: keys for real APIs, an ffe
	// binary to spawn. Nil means nothing is set.
	LookupEnv func(string) (string, bool)
	// Executable is the path of a program that runs the ffe CLI when its
	// first argument is FFECommand: how scenarios start `ffe serve` as a
	// separate process. Empty means the scenarios that need it are skipped.
	Executable string
}

// FFECommand is the first argument that makes Env.Executable run the ffe
// CLI with the rest of its arguments.
const FFECommand = "ffe"

// Getenv returns the value of key in the user's environment, or "".
func (e *Env) Getenv(key string) string {
	if e == nil || e.LookupEnv == nil {
		return ""
	}
	v, _ := e.LookupEnv(key)
	return v
}

// groups are the functions that list the scenarios of each file.
var groups = []func() []Scenario{
	commandScenarios,   // commands.go: every ffe command, success and error paths
	exportScenarios,    // export.go: the export cycle in process and against ffe serve
	componentScenarios, // components.go: crew, monitor, engine open/close
	providerScenarios,  // providers.go: each provider's fetch, the Reddit scan
}

// registry holds every scenario by name: the groups' at first use, and
// those added with Register.
var registry struct {
	once sync.Once
	mu   sync.Mutex
	m    map[string]Scenario
}

// scenarioMap returns the registry, filled from groups on first use.
func scenarioMap() map[string]Scenario {
	registry.once.Do(func() {
		registry.m = map[string]Scenario{}
		for _, g := range groups {
			for _, s := range g() {
				if err := add(s); err != nil {
					panic("scenarios: " + err.Error()) // a bug in this package
				}
			}
		}
	})
	return registry.m
}

// add adds s to the registry; the caller holds registry.mu or is the
// registry's initialisation.
func add(s Scenario) error {
	if s.Name == "" || s.Build == nil || len(s.Modes) == 0 {
		return fmt.Errorf("scenario %q needs a name, modes and Build", s.Name)
	}
	if _, dup := registry.m[s.Name]; dup {
		return fmt.Errorf("scenario %q registered twice", s.Name)
	}
	registry.m[s.Name] = s
	return nil
}

// Register adds scenarios of a program's own to the registry, so that a
// main that registers them and then runs the leakgate command line
// (scenarios/cli.Main) runs them like the built-in ones, in its worker
// processes too: register before Main, in every process. A scenario
// without a name, modes or Build, or with a name already taken, is an
// error and nothing is added.
func Register(scs ...Scenario) error {
	m := scenarioMap()
	registry.mu.Lock()
	defer registry.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range scs {
		if _, dup := m[s.Name]; dup || seen[s.Name] {
			return fmt.Errorf("scenarios: register %q: the name is taken", s.Name)
		}
		if s.Name == "" || s.Build == nil || len(s.Modes) == 0 {
			return fmt.Errorf("scenarios: register %q: a scenario needs a name, modes and Build", s.Name)
		}
		seen[s.Name] = true
	}
	for _, s := range scs {
		if err := add(s); err != nil {
			return fmt.Errorf("scenarios: register: %w", err)
		}
	}
	return nil
}

// All returns every registered scenario, sorted by name.
func All() []Scenario {
	m := scenarioMap()
	registry.mu.Lock()
	defer registry.mu.Unlock()
	out := make([]Scenario, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the scenario with that exact name.
func Lookup(name string) (Scenario, bool) {
	m := scenarioMap()
	registry.mu.Lock()
	defer registry.mu.Unlock()
	s, ok := m[name]
	return s, ok
}

// MatchName reports whether a scenario name matches a pattern: an exact
// name, or a path.Match glob in which * and ? also match "/", so that
// "cmd/*" matches "cmd/analyze/interrupted" too and "*" every name.
func MatchName(pattern, name string) bool {
	if pattern == name {
		return true
	}
	ok, _ := path.Match(strings.ReplaceAll(pattern, "/", nameSep), strings.ReplaceAll(name, "/", nameSep))
	return ok
}

// nameSep stands for "/" in MatchName, so that path.Match's * crosses it.
const nameSep = "\x1f"

// Match returns the registered scenarios whose names match any of the
// patterns (see MatchName), sorted by name, each once. A malformed
// pattern, or one that matches nothing, is an error.
func Match(patterns ...string) ([]Scenario, error) { return MatchIn(All(), patterns...) }

// MatchIn is Match over scs instead of the registry, in the order of scs.
func MatchIn(scs []Scenario, patterns ...string) ([]Scenario, error) {
	hit := map[string]bool{}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("scenario pattern %q: %w", p, err)
		}
		n := 0
		for _, s := range scs {
			if MatchName(p, s.Name) {
				n++
				hit[s.Name] = true
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("scenario %q: no such scenario (see leakgate list)", p)
		}
	}
	var out []Scenario
	for _, s := range scs {
		if hit[s.Name] {
			out = append(out, s)
			delete(hit, s.Name)
		}
	}
	return out, nil
}
