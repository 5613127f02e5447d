package suite

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leakgate/leakgate/harness"
	"github.com/leakgate/leakgate/scenarios"
)

// Defaults of declared scenarios.
const (
	// DefaultReadyTimeout bounds the wait for a spawned or existing
	// process to be ready.
	DefaultReadyTimeout = 10 * time.Second
	// DefaultStopTimeout is how long a spawned process has to exit after
	// SIGTERM before it is killed.
	DefaultStopTimeout = 5 * time.Second
	// DefaultRequestTimeout bounds each request and each iteration command.
	DefaultRequestTimeout = 10 * time.Second
	// MaxBodySize is how much of a response body an iteration reads; the
	// rest is discarded with the connection.
	MaxBodySize = 1 << 20
)

// Declared is a scenario declared in a suite file rather than written in
// Go: a service in any language, measured by PID from the outside
// (harness.Process), and driven by HTTP requests or a command each
// iteration. It applies to mode live only.
//
//	declared:
//	  - name: my-service/orders
//	    description: create an order
//	    spawn:                       # or pid: 1234, or pid_file: run/svc.pid
//	      command: ["./bin/svc", "--port", "0"]
//	      env: {LOG_LEVEL: warn}
//	      dir: .
//	      ready: {log: 'listening on (http://\S+)', timeout: 10s}  # or ready.url
//	      stop_timeout: 5s
//	    base_url: http://127.0.0.1:8080  # optional; else ready.log's group or ready.url
//	    metrics_url: "{base}/metrics"    # Prometheus text: goroutines and heap
//	    pprof_url: "{base}/debug/pprof/" # net/http/pprof: a failing heap's allocation sites
//	    allow_remote: false
//	    iteration:
//	      timeout: 10s
//	      requests:
//	        - {method: POST, url: "{base}/api/orders", body: '{"x":1}', headers: {Authorization: "Bearer x"}, expect: 201}
//	      command: ["curl", "-sf", "{base}/api/orders"]
//	    thresholds: {fds: delta<=0}
//
// In URLs, bodies, header values and iteration commands "{base}" is the
// service's base URL and "{pid}" its process id; iteration commands also
// get them as LEAKGATE_BASE and LEAKGATE_PID in their environment, and
// both the service and the commands get LEAKGATE_DIR, the scenario's own
// directory (scenarios.Env.Dir).
//
// Every URL must be on loopback (127.0.0.0/8, ::1, localhost) unless
// allow_remote is true; the HTTP client also refuses to connect anywhere
// else, so redirects and names that resolve elsewhere are refused too,
// and it uses no proxy.
type Declared struct {
	// Name identifies the scenario; it must differ from every registered
	// scenario's.
	Name string
	// Description says what one iteration does.
	Description string
	// Spawn starts the service for each run; nil when PID or PIDFile
	// names a running process instead.
	Spawn *Spawn
	// PID is a running process to measure, or 0.
	PID int
	// PIDFile is a file holding the PID of a running process, read when
	// the scenario is built, or "".
	PIDFile string
	// BaseURL is the value of "{base}", when not found otherwise.
	BaseURL string
	// MetricsURL is the service's Prometheus text endpoint, from which the
	// harness reads goroutines and heap; "" leaves them unmeasured.
	MetricsURL string
	// PprofURL is the service's net/http/pprof index, from which the
	// harness reads heap profiles to name the allocation sites of a
	// failing heap (harness.Target.WithPprofURL); "" names none.
	PprofURL string
	// AllowRemote permits URLs that are not on loopback.
	AllowRemote bool
	// Ready says when the service is ready to be measured.
	Ready Ready
	// Iteration is what one iteration does.
	Iteration Iteration
	// Thresholds replace the suite's and the harness's for this scenario.
	Thresholds map[string][]string

	dir   string         // where relative paths start
	logRE *regexp.Regexp // Ready.Log, compiled
}

// Spawn is how a declared scenario starts its service. The process is
// started when the scenario is built, since the harness needs its PID
// before the run, and stopped in the run's Teardown: SIGTERM, then a kill
// after StopTimeout. The command should be the service itself, not a shell
// that starts it: the PID measured is the one spawned.
type Spawn struct {
	// Command is the program and its arguments. A relative program path
	// with a separator ("./bin/svc") is taken from Dir.
	Command []string
	// Env is added to the environment leakgate runs in.
	Env map[string]string
	// Dir is the working directory; a relative one is taken from the suite
	// file's directory (Load) or the working directory (Parse).
	Dir string
	// StopTimeout is the wait between SIGTERM and a kill.
	StopTimeout time.Duration
}

// Ready is when a service is ready: when URL answers 2xx, or when a line
// of its output (standard output and error, spawned services only)
// matches Log, whose first group, if any, is the base URL. With neither,
// a spawned service is ready when MetricsURL answers, or at once.
type Ready struct {
	URL     string
	Log     string
	Timeout time.Duration
}

// Iteration is what one iteration of a declared scenario does: the
// requests in order, then the command. A request whose status is not the
// expected one, or a command that exits non-zero, is a scenario error.
type Iteration struct {
	// Requests are sent in order with one HTTP client for the whole run.
	Requests []Request
	// Command, if set, runs once per iteration.
	Command []string
	// Timeout bounds each request and the command.
	Timeout time.Duration
}

// Request is one HTTP request of an iteration.
type Request struct {
	// Method is the HTTP method (default GET).
	Method string
	// URL is the request's URL, usually "{base}/path".
	URL string
	// Body is sent as is.
	Body string
	// Headers are set on the request.
	Headers map[string]string
	// Expect is the expected status code; 0 means any 2xx.
	Expect int
}

// urlCheck is a URL field to check once allow_remote is known.
type urlCheck struct {
	node  *yaml.Node
	field string
	url   string
}

func decodeDeclared(d *decoder, n *yaml.Node, path string) ([]*Declared, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, path, "want a list of scenarios, got %s", kindName(n))
	}
	var out []*Declared
	lines := map[string]int{}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		dc, nameNode, err := decodeOne(d, resolve(item), p)
		if err != nil {
			return nil, err
		}
		if first, dup := lines[dc.Name]; dup {
			return nil, d.errf(nameNode, p+".name", "%q is declared twice (first on line %d)", dc.Name, first)
		}
		if _, ok := scenarios.Lookup(dc.Name); ok {
			return nil, d.errf(nameNode, p+".name", "%q is the name of a registered scenario", dc.Name)
		}
		lines[dc.Name] = nameNode.Line
		out = append(out, dc)
	}
	return out, nil
}

func decodeOne(d *decoder, n *yaml.Node, p string) (*Declared, *yaml.Node, error) {
	dc := &Declared{}
	var urls []urlCheck
	addURL := func(v *yaml.Node, fp, u string) { urls = append(urls, urlCheck{v, fp, u}) }
	var nameNode, threshNode, readyNode *yaml.Node
	var readyLogNode *yaml.Node
	// decodeReady reads a ready section, in spawn (withLog: a log regexp
	// or a URL) or beside pid and pid_file (a URL only); it may appear once.
	decodeReady := func(v *yaml.Node, fp string, withLog bool) error {
		if readyNode != nil {
			return d.errf(v, fp, "ready given twice: in spawn and in the scenario")
		}
		readyNode = v
		fields := []field{
			{"url", func(v *yaml.Node, fp string) (err error) {
				if dc.Ready.URL, err = d.text(v, fp); err == nil {
					addURL(v, fp, dc.Ready.URL)
				}
				return err
			}},
			{"timeout", func(v *yaml.Node, fp string) (err error) { dc.Ready.Timeout, err = d.duration(v, fp); return err }},
		}
		if withLog {
			fields = append(fields, field{"log", func(v *yaml.Node, fp string) (err error) {
				readyLogNode = v
				if dc.Ready.Log, err = d.text(v, fp); err != nil {
					return err
				}
				if dc.logRE, err = regexp.Compile(dc.Ready.Log); err != nil {
					return d.errf(v, fp, "bad regexp: %v", err)
				}
				return nil
			}})
		}
		_, err := d.mapping(v, fp, fields)
		return err
	}
	seen, err := d.mapping(n, p, []field{
		{"name", func(v *yaml.Node, fp string) (err error) {
			nameNode = v
			if dc.Name, err = d.text(v, fp); err == nil && !validName(dc.Name) {
				err = d.errf(v, fp, "%q: use letters, digits and - _ . / only", dc.Name)
			}
			return err
		}},
		{"description", func(v *yaml.Node, fp string) (err error) { dc.Description, err = d.str(v, fp); return err }},
		{"spawn", func(v *yaml.Node, fp string) (err error) {
			dc.Spawn = &Spawn{StopTimeout: DefaultStopTimeout}
			_, err = d.mapping(v, fp, []field{
				{"command", func(v *yaml.Node, fp string) (err error) { dc.Spawn.Command, err = d.command(v, fp); return err }},
				{"env", func(v *yaml.Node, fp string) (err error) { dc.Spawn.Env, err = d.stringMap(v, fp); return err }},
				{"dir", func(v *yaml.Node, fp string) (err error) { dc.Spawn.Dir, err = d.text(v, fp); return err }},
				{"stop_timeout", func(v *yaml.Node, fp string) (err error) { dc.Spawn.StopTimeout, err = d.duration(v, fp); return err }},
				{"ready", func(v *yaml.Node, fp string) error { return decodeReady(v, fp, true) }},
			})
			if err == nil && dc.Spawn.Command == nil {
				err = d.errf(v, fp+".command", "missing: the program to start and its arguments")
			}
			return err
		}},
		{"pid", func(v *yaml.Node, fp string) (err error) {
			if dc.PID, err = d.integer(v, fp); err == nil && dc.PID <= 0 {
				err = d.errf(v, fp, "must be positive, got %d", dc.PID)
			}
			return err
		}},
		{"pid_file", func(v *yaml.Node, fp string) (err error) { dc.PIDFile, err = d.text(v, fp); return err }},
		// For pid and pid_file: only a URL can say the process is ready.
		{"ready", func(v *yaml.Node, fp string) error { return decodeReady(v, fp, false) }},
		{"base_url", func(v *yaml.Node, fp string) (err error) {
			if dc.BaseURL, err = d.text(v, fp); err == nil {
				if strings.Contains(dc.BaseURL, "{base}") {
					return d.errf(v, fp, "cannot use {base}")
				}
				addURL(v, fp, dc.BaseURL)
			}
			return err
		}},
		{"metrics_url", func(v *yaml.Node, fp string) (err error) {
			if dc.MetricsURL, err = d.text(v, fp); err == nil {
				addURL(v, fp, dc.MetricsURL)
			}
			return err
		}},
		{"pprof_url", func(v *yaml.Node, fp string) (err error) {
			if dc.PprofURL, err = d.text(v, fp); err == nil {
				addURL(v, fp, dc.PprofURL)
			}
			return err
		}},
		{"allow_remote", func(v *yaml.Node, fp string) (err error) { dc.AllowRemote, err = d.boolean(v, fp); return err }},
		{"iteration", func(v *yaml.Node, fp string) error { return decodeIteration(d, v, fp, &dc.Iteration, addURL) }},
		{"thresholds", func(v *yaml.Node, fp string) error {
			threshNode = v
			return nil // after metrics_url is known
		}},
	})
	if err != nil {
		return nil, nil, err
	}
	if nameNode == nil {
		return nil, nil, d.errf(n, p+".name", "missing")
	}
	if dc.Ready.Timeout == 0 {
		dc.Ready.Timeout = DefaultReadyTimeout
	}
	if dc.Iteration.Timeout == 0 {
		dc.Iteration.Timeout = DefaultRequestTimeout
	}

	// Exactly one process.
	var given []string
	for _, k := range []string{"spawn", "pid", "pid_file"} {
		if seen[k] != nil {
			given = append(given, k)
		}
	}
	switch {
	case len(given) == 0:
		return nil, nil, d.errf(n, p, "needs spawn, pid or pid_file: the process to measure")
	case len(given) > 1:
		return nil, nil, d.errf(seen[given[1]], p+"."+given[1], "give only one of spawn, pid and pid_file")
	case dc.Spawn == nil && readyLogNode != nil:
		return nil, nil, d.errf(readyLogNode, p+".ready.log", "needs spawn: only a spawned process's output is read")
	}
	if seen["iteration"] == nil {
		return nil, nil, d.errf(n, p+".iteration", "missing: the requests or command of one iteration")
	}

	// URLs: loopback unless allowed, and {base} only where there is one.
	hasBase := dc.BaseURL != "" || dc.Ready.URL != "" || (dc.logRE != nil && dc.logRE.NumSubexp() > 0)
	for _, c := range urls {
		if err := checkURL(c.url, dc.AllowRemote, hasBase); err != nil {
			return nil, nil, d.errf(c.node, c.field, "%v", err)
		}
	}
	if !hasBase {
		for i, a := range dc.Iteration.Command {
			if strings.Contains(a, "{base}") {
				return nil, nil, d.errf(n, fmt.Sprintf("%s.iteration.command[%d]", p, i), "uses {base}, but there is none: %s", noBase)
			}
		}
	}
	if threshNode != nil {
		if dc.Thresholds, err = decodeThresholds(d, threshNode, p+".thresholds", dc.metricOK); err != nil {
			return nil, nil, err
		}
	}
	return dc, nameNode, nil
}

const noBase = "set base_url, ready.url, or a ready.log regexp with a group"

func decodeIteration(d *decoder, v *yaml.Node, fp string, it *Iteration, addURL func(*yaml.Node, string, string)) error {
	seen, err := d.mapping(v, fp, []field{
		{"timeout", func(v *yaml.Node, fp string) (err error) { it.Timeout, err = d.duration(v, fp); return err }},
		{"command", func(v *yaml.Node, fp string) (err error) { it.Command, err = d.command(v, fp); return err }},
		{"requests", func(v *yaml.Node, fp string) error {
			if v.Kind != yaml.SequenceNode {
				return d.errf(v, fp, "want a list of requests, got %s", kindName(v))
			}
			for i, rn := range v.Content {
				rp := fmt.Sprintf("%s[%d]", fp, i)
				var r Request
				seen, err := d.mapping(rn, rp, []field{
					{"method", func(v *yaml.Node, fp string) (err error) {
						if r.Method, err = d.text(v, fp); err == nil && strings.ContainsAny(r.Method, " \t/:") {
							err = d.errf(v, fp, "%q is not an HTTP method", r.Method)
						}
						r.Method = strings.ToUpper(r.Method)
						return err
					}},
					{"url", func(v *yaml.Node, fp string) (err error) {
						if r.URL, err = d.text(v, fp); err == nil {
							addURL(v, fp, r.URL)
						}
						return err
					}},
					{"body", func(v *yaml.Node, fp string) (err error) { r.Body, err = d.str(v, fp); return err }},
					{"headers", func(v *yaml.Node, fp string) (err error) { r.Headers, err = d.stringMap(v, fp); return err }},
					{"expect", func(v *yaml.Node, fp string) (err error) {
						if r.Expect, err = d.integer(v, fp); err == nil && (r.Expect < 100 || r.Expect > 599) {
							err = d.errf(v, fp, "want an HTTP status code, got %d", r.Expect)
						}
						return err
					}},
				})
				if err != nil {
					return err
				}
				if seen["url"] == nil {
					return d.errf(rn, rp+".url", "missing")
				}
				if r.Method == "" {
					r.Method = "GET"
				}
				it.Requests = append(it.Requests, r)
			}
			return nil
		}},
	})
	if err != nil {
		return err
	}
	if seen["requests"] == nil && seen["command"] == nil {
		return d.errf(v, fp, "needs requests or a command")
	}
	return nil
}

// checkURL checks a URL of a declared scenario when it is parsed. One that
// starts with {base} is checked when the base is known.
func checkURL(raw string, allowRemote, hasBase bool) error {
	if strings.Contains(raw, "{base}") {
		if !strings.HasPrefix(raw, "{base}") {
			return fmt.Errorf("%q: {base} can only start a URL", raw)
		}
		if !hasBase {
			return fmt.Errorf("%q uses {base}, but there is none: %s", raw, noBase)
		}
		return nil
	}
	_, err := parseURL(strings.ReplaceAll(raw, "{pid}", "1"), allowRemote)
	return err
}

// parseURL parses an http or https URL and, unless allowRemote, requires
// a loopback host.
func parseURL(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an http or https URL", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q: no host", raw)
	}
	if !allowRemote && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%q is not on loopback (127.0.0.0/8, ::1, localhost); set allow_remote: true to permit it", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// metricOK accepts the metrics a declared scenario's target has: the
// built-in ones, goroutines and heap only with a metrics URL.
func (dc *Declared) metricOK(metric string) error {
	if !slices.Contains(harness.BuiltinMetrics(), metric) || metric == harness.MetricUnclosed {
		return fmt.Errorf("not a metric of a declared scenario (want one of %s)", strings.Join(slices.DeleteFunc(harness.BuiltinMetrics(), func(m string) bool { return m == harness.MetricUnclosed }), ", "))
	}
	if !dc.measures(metric) {
		return fmt.Errorf("measured only with metrics_url")
	}
	return nil
}

// measures reports whether the scenario's target has the metric.
func (dc *Declared) measures(metric string) bool {
	switch metric {
	case harness.MetricUnclosed:
		return false
	case harness.MetricGoroutines, harness.MetricHeap:
		return dc.MetricsURL != ""
	}
	return slices.Contains(harness.BuiltinMetrics(), metric)
}

// Scenario returns the declared scenario as a registry scenario for mode
// live. Its Build starts the service (Spawn) or finds it (PID, PIDFile)
// and waits until it is ready, because the harness needs the PID and the
// metrics URL before the run starts; the Run's Teardown stops the service
// and closes the HTTP client. A caller that builds the scenario and does
// not run it through harness.Run, or whose harness.Run returns no Result
// (invalid options), must call the Run's Scenario.Teardown itself.
func (dc *Declared) Scenario() scenarios.Scenario {
	desc := dc.Description
	if desc == "" {
		desc = dc.describe()
	}
	return scenarios.Scenario{
		Name:        dc.Name,
		Description: desc,
		Modes:       []scenarios.Mode{scenarios.Live},
		Build:       dc.build,
	}
}

func (dc *Declared) describe() string {
	var parts []string
	switch {
	case dc.Spawn != nil:
		parts = append(parts, "spawn "+dc.Spawn.Command[0])
	case dc.PIDFile != "":
		parts = append(parts, "the process in "+dc.PIDFile)
	default:
		parts = append(parts, fmt.Sprintf("pid %d", dc.PID))
	}
	if n := len(dc.Iteration.Requests); n > 0 {
		parts = append(parts, fmt.Sprintf("%d request(s) per iteration", n))
	}
	if len(dc.Iteration.Command) > 0 {
		parts = append(parts, "run "+dc.Iteration.Command[0]+" per iteration")
	}
	return "declared: " + strings.Join(parts, ", ")
}
