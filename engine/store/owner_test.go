package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// schemaStatement matches SQL that changes a database's schema.
var schemaStatement = regexp.MustCompile(`(?i)\b(create|alter|drop)\s+(temp\s+|temporary\s+|unique\s+|virtual\s+)?(table|index|view|trigger)\b`)

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the package")
		dir = parent
	}
}

// sourceFile is a parsed non-test Go file of the module.
type sourceFile struct {
	rel  string // slash-separated path from the module root
	file *ast.File
}

// moduleSources parses every non-test Go file of the module, skipping
// testdata and hidden directories.
func moduleSources(t *testing.T) []sourceFile {
	t.Helper()
	root := moduleRoot(t)
	fset := token.NewFileSet()
	var out []sourceFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		out = append(out, sourceFile{rel: filepath.ToSlash(rel), file: f})
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}

// TestOnlyTheStoreChangesTheSchema checks that no package but this one
// creates, alters or drops a table, index, view or trigger: every table
// of the database comes from the numbered migrations, whatever package
// uses it. It reads the string literals of every non-test Go file of the
// module.
func TestOnlyTheStoreChangesTheSchema(t *testing.T) {
	var found []string
	seen := 0
	for _, sf := range moduleSources(t) {
		if strings.HasPrefix(sf.rel, "engine/store/") {
			continue
		}
		seen++
		ast.Inspect(sf.file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				s = lit.Value
			}
			if m := schemaStatement.FindString(s); m != "" {
				found = append(found, sf.rel+": "+m)
			}
			return true
		})
	}
	require.Positive(t, seen)
	require.Empty(t, found, "schema changes belong in engine/store/migrations")
}

// TestTableUsersHoldNoSQL checks that the packages whose tables the store
// keeps reach them through the store's types only: they import neither
// database/sql nor a driver.
func TestTableUsersHoldNoSQL(t *testing.T) {
	banned := []string{"database/sql", "modernc.org/sqlite", "github.com/leakgate/leakgate/engine/store"}
	dirs := map[string]bool{"engine/jobs": false, "engine/monitor": false}
	var found []string
	for _, sf := range moduleSources(t) {
		dir := filepath.ToSlash(filepath.Dir(sf.rel))
		if _, ok := dirs[dir]; !ok {
			continue
		}
		dirs[dir] = true
		for _, imp := range sf.file.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			for _, b := range banned {
				if path == b {
					found = append(found, sf.rel+" imports "+path)
				}
			}
		}
	}
	for dir, ok := range dirs {
		require.True(t, ok, "no Go file in %s", dir)
	}
	require.Empty(t, found)
}

// TestStoreHandsOutNoPool checks that no package outside the store can
// reach its connection pool: no exported function or method of the store
// returns a *sql.DB, *sql.Conn or *sql.Tx, so every use of the database
// goes through the store's own methods (Stats, PingContext, WarmPool for
// the pool itself).
func TestStoreHandsOutNoPool(t *testing.T) {
	var found []string
	seen := 0
	for _, sf := range moduleSources(t) {
		if filepath.ToSlash(filepath.Dir(sf.rel)) != "engine/store" {
			continue
		}
		seen++
		found = append(found, poolResults(sf)...)
	}
	require.Positive(t, seen)
	require.Empty(t, found, "the store's pool stays in the store: add a narrow method instead")
}

// poolResults lists the exported functions and methods of sf that return
// a *sql.DB, *sql.Conn or *sql.Tx.
func poolResults(sf sourceFile) []string {
	sqlName := ""
	for _, imp := range sf.file.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "database/sql" {
			sqlName = "sql"
			if imp.Name != nil {
				sqlName = imp.Name.Name
			}
		}
	}
	if sqlName == "" {
		return nil
	}
	var out []string
	for _, d := range sf.file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || !fn.Name.IsExported() || fn.Type.Results == nil {
			continue
		}
		for _, r := range fn.Type.Results.List {
			star, ok := r.Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			sel, ok := star.X.(*ast.SelectorExpr)
			if !ok {
				continue
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == sqlName &&
				(sel.Sel.Name == "DB" || sel.Sel.Name == "Conn" || sel.Sel.Name == "Tx") {
				out = append(out, sf.rel+": "+fn.Name.Name+" returns *"+sqlName+"."+sel.Sel.Name)
			}
		}
	}
	return out
}
