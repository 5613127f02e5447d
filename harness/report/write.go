package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Formats of a report, in the order WriteFiles writes them.
const (
	FormatText  = "text"
	FormatJSON  = "json"
	FormatJUnit = "junit"
	FormatHTML  = "html"
)

// Formats lists every format Write accepts.
var Formats = []string{FormatText, FormatJSON, FormatJUnit, FormatHTML}

// ErrFormat is returned for a format that is not one of Formats.
var ErrFormat = errors.New("report: unknown format")

// FileName returns the name WriteFiles gives a format's file:
// leakgate.txt, leakgate.json, leakgate.junit.xml or leakgate.html.
func FileName(format string) (string, error) {
	switch format {
	case FormatText:
		return "leakgate.txt", nil
	case FormatJSON:
		return "leakgate.json", nil
	case FormatJUnit:
		return "leakgate.junit.xml", nil
	case FormatHTML:
		return "leakgate.html", nil
	}
	return "", fmt.Errorf("%w %q (want one of %v)", ErrFormat, format, Formats)
}

// WriteJSON writes the report as indented JSON (schema leakgate.report/v1;
// numbers that were not measured are null). An empty Schema is written as
// Schema, and nil cases as [].
func (r *Report) WriteJSON(w io.Writer) error {
	doc := *r
	if doc.Schema == "" {
		doc.Schema = Schema
	}
	if doc.Cases == nil {
		doc.Cases = []Case{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}

// Write writes the report in one of Formats.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatText:
		return r.WriteText(w)
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatJUnit:
		return r.WriteJUnit(w)
	case FormatHTML:
		return r.WriteHTML(w)
	}
	return fmt.Errorf("%w %q (want one of %v)", ErrFormat, format, Formats)
}

// WriteFiles writes the report into dir, once per format (all of Formats
// when none is given), under the names of FileName, and returns the paths
// written. Each file is written to a temporary file in dir and renamed
// into place, so a reader never sees a partial report. Unknown formats
// are an error before anything is written; dir must exist.
func (r *Report) WriteFiles(dir string, formats ...string) ([]string, error) {
	if len(formats) == 0 {
		formats = Formats
	}
	type file struct{ format, path string }
	var files []file
	for _, f := range formats {
		name, err := FileName(f)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(files, func(x file) bool { return x.format == f }) {
			files = append(files, file{f, filepath.Join(dir, name)})
		}
	}
	var paths []string
	for _, f := range files {
		if err := writeAtomic(f.path, func(w io.Writer) error { return r.Write(w, f.format) }); err != nil {
			return paths, err
		}
		paths = append(paths, f.path)
	}
	return paths, nil
}

// writeAtomic writes a file through a temporary file in its directory and
// a rename.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}
