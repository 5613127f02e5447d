package scenarios

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

// suiteFiles are the built-in suites, read by package scenarios/suite.
//
//go:embed ci.yaml soak.yaml
var suiteFiles embed.FS

// BuiltinSuites is the file system of the built-in suite files: ci.yaml
// and soak.yaml.
var BuiltinSuites fs.FS = suiteFiles

// BuiltinSuite returns the YAML of a built-in suite by name ("ci",
// "soak"), and whether there is one.
func BuiltinSuite(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return nil, false
	}
	b, err := suiteFiles.ReadFile(name + ".yaml")
	return b, err == nil
}

// BuiltinSuiteNames returns the names of the built-in suites, sorted.
func BuiltinSuiteNames() []string {
	entries, _ := suiteFiles.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}
