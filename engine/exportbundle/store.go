package exportbundle

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// ManifestName is the name of the manifest file in every bundle.
const ManifestName = "manifest.json"

// ManifestVersion is the version of the manifest format this package writes.
const ManifestVersion = 1

// Errors matched with errors.Is.
var (
	// ErrNotFound means no complete bundle has that id, or the bundle lists
	// no file of that name.
	ErrNotFound = errors.New("export not found")
	// ErrExists means a bundle with that id is already committed.
	ErrExists = errors.New("export already exists")
	// ErrDuplicate means a bundle already holds a file of that name.
	ErrDuplicate = errors.New("duplicate file name")
	// ErrDone means the bundle was already committed or aborted.
	ErrDone = errors.New("bundle already committed or aborted")
)

// Prefixes of the hidden directories a Store uses for staging and deletion.
const (
	stagingPrefix = ".tmp-"
	trashPrefix   = ".del-"
)

// File describes one file of a bundle.
type File struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
}

// Manifest describes a committed bundle. Files lists every file but the
// manifest itself, in the order they were added.
type Manifest struct {
	Version int               `json:"version"`
	ID      string            `json:"id"`
	Created time.Time         `json:"created"`
	Labels  map[string]string `json:"labels,omitempty"`
	Files   []File            `json:"files"`
}

// File returns the entry named name, and false if there is none.
func (m Manifest) File(name string) (File, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// Option configures a Store.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	now func() time.Time
}

// WithClock sets the time source used for manifest creation times and for
// retention by age.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) { o.now = now })
}

// Store is a directory of export bundles. Call Close when done.
type Store struct {
	root *os.Root
	dir  string
	now  func() time.Time

	// mu orders commits, deletions and pruning, so that the existence check
	// of a commit and its rename are not interleaved with another's.
	mu sync.Mutex
}

// Open opens (creating if needed) the bundle root dir and removes the
// staging and trash directories a previous process left behind.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("exportbundle: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("exportbundle: %w", err)
	}
	s := &Store{root: root, dir: dir, now: o.now}
	if err := s.removeLeftovers(); err != nil {
		root.Close()
		return nil, err
	}
	return s, nil
}

// Dir returns the root directory of the store.
func (s *Store) Dir() string { return s.dir }

// Close releases the store's handle on its root directory. Bundles being
// written must be committed or aborted first.
func (s *Store) Close() error { return s.root.Close() }

func (s *Store) removeLeftovers() error {
	entries, err := fs.ReadDir(s.root.FS(), ".")
	if err != nil {
		return fmt.Errorf("exportbundle: read root: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagingPrefix) || strings.HasPrefix(e.Name(), trashPrefix) {
			if err := s.root.RemoveAll(e.Name()); err != nil {
				errs = append(errs, fmt.Errorf("exportbundle: remove leftover %s: %w", e.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Create starts a bundle with the given id. Add files to it, then Commit or
// Abort it; until Commit nothing of it is visible under id.
func (s *Store) Create(id string) (*Bundle, error) {
	if err := ValidName(id); err != nil {
		return nil, fmt.Errorf("exportbundle: id: %w", err)
	}
	if s.exists(id) {
		return nil, fmt.Errorf("exportbundle: %s: %w", id, ErrExists)
	}
	staging := stagingPrefix + id + "-" + rand.Text()
	if err := s.root.Mkdir(staging, dirPerm); err != nil {
		return nil, fmt.Errorf("exportbundle: create %s: %w", id, err)
	}
	dir, err := s.root.OpenRoot(staging)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("exportbundle: create %s: %w", id, err), s.root.Remove(staging))
	}
	return &Bundle{s: s, id: id, staging: staging, dir: dir, names: map[string]bool{ManifestName: true}}, nil
}

// Exists reports whether the committed bundle id exists.
func (s *Store) Exists(id string) bool { return ValidName(id) == nil && s.exists(id) }

func (s *Store) exists(id string) bool {
	_, err := s.root.Lstat(id)
	return err == nil
}

// Manifest returns the manifest of the committed bundle id.
func (s *Store) Manifest(id string) (Manifest, error) {
	if err := ValidName(id); err != nil {
		return Manifest{}, fmt.Errorf("exportbundle: id: %w", err)
	}
	data, err := s.root.ReadFile(filepath.Join(id, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("exportbundle: %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("exportbundle: read manifest of %s: %w", id, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("exportbundle: decode manifest of %s: %w", id, err)
	}
	return m, nil
}

// OpenFile opens the file name of bundle id for reading, if the bundle's
// manifest lists it (the manifest itself is always listed). The caller must
// close the file.
func (s *Store) OpenFile(id, name string) (*os.File, File, error) {
	if err := ValidName(name); err != nil {
		return nil, File{}, fmt.Errorf("exportbundle: file name: %w", err)
	}
	m, err := s.Manifest(id)
	if err != nil {
		return nil, File{}, err
	}
	entry, ok := m.File(name)
	if name == ManifestName {
		entry, ok = File{Name: ManifestName, ContentType: "application/json"}, true
	}
	if !ok {
		return nil, File{}, fmt.Errorf("exportbundle: %s/%s: %w", id, name, ErrNotFound)
	}
	f, err := s.root.Open(filepath.Join(id, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, File{}, fmt.Errorf("exportbundle: %s/%s: %w", id, name, ErrNotFound)
	}
	if err != nil {
		return nil, File{}, fmt.Errorf("exportbundle: open %s/%s: %w", id, name, err)
	}
	if entry.Name == ManifestName {
		if st, err := f.Stat(); err == nil {
			entry.Size = st.Size()
		}
	}
	return f, entry, nil
}

// Delete removes bundle id. The bundle disappears from view at once (it is
// renamed away first), then its files are removed. Files already open stay
// readable until closed.
func (s *Store) Delete(id string) error {
	if err := ValidName(id); err != nil {
		return fmt.Errorf("exportbundle: id: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteLocked(id)
}

func (s *Store) deleteLocked(id string) error {
	if !s.exists(id) {
		return fmt.Errorf("exportbundle: %s: %w", id, ErrNotFound)
	}
	trash := trashPrefix + id + "-" + rand.Text()
	if err := s.root.Rename(id, trash); err != nil {
		return fmt.Errorf("exportbundle: delete %s: %w", id, err)
	}
	if err := syncDir(s.root, "."); err != nil {
		return fmt.Errorf("exportbundle: delete %s: %w", id, err)
	}
	if err := s.root.RemoveAll(trash); err != nil {
		return fmt.Errorf("exportbundle: delete %s: %w", id, err)
	}
	return nil
}

// List returns the manifests of all committed bundles, oldest first.
func (s *Store) List() ([]Manifest, error) {
	entries, err := fs.ReadDir(s.root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("exportbundle: read root: %w", err)
	}
	var out []Manifest
	for _, e := range entries {
		if !e.IsDir() || ValidName(e.Name()) != nil {
			continue
		}
		m, err := s.Manifest(e.Name())
		if errors.Is(err, ErrNotFound) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Manifest) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Prune removes bundles older than maxAge, then the oldest bundles beyond
// maxCount, and returns the removed ids. A zero maxCount or maxAge disables
// that rule.
func (s *Store) Prune(maxCount int, maxAge time.Duration) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	cutoff := time.Time{}
	if maxAge > 0 {
		cutoff = s.now().Add(-maxAge)
	}
	var removed []string
	var errs []error
	for i, m := range all {
		tooOld := maxAge > 0 && m.Created.Before(cutoff)
		tooMany := maxCount > 0 && len(all)-i > maxCount
		if !tooOld && !tooMany {
			continue
		}
		if err := s.deleteLocked(m.ID); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, m.ID)
	}
	return removed, errors.Join(errs...)
}

// syncParallelism bounds the file syncs of one Commit in flight.
const syncParallelism = 16

func fileNames(files []File) []string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	return names
}

// Bundle is an export being written. Add may be called concurrently; Commit
// and Abort end it.
type Bundle struct {
	s       *Store
	id      string
	staging string
	dir     *os.Root // the staging directory, open until Commit or Abort

	mu    sync.Mutex
	files []File
	names map[string]bool
	done  bool
}

// ID returns the export id the bundle will be committed under.
func (b *Bundle) ID() string { return b.id }

// Add writes the file name into the bundle: write fills it, and its size and
// SHA-256 are recorded for the manifest.
func (b *Bundle) Add(name, contentType string, write func(io.Writer) error) (File, error) {
	if err := ValidName(name); err != nil {
		return File{}, fmt.Errorf("exportbundle: file name: %w", err)
	}
	b.mu.Lock()
	switch {
	case b.done:
		b.mu.Unlock()
		return File{}, fmt.Errorf("exportbundle: %s: %w", b.id, ErrDone)
	case b.names[name]:
		b.mu.Unlock()
		return File{}, fmt.Errorf("exportbundle: %s/%s: %w", b.id, name, ErrDuplicate)
	}
	b.names[name] = true // reserved; released on failure
	b.mu.Unlock()

	// The staging directory is the temporary: a file is written in place
	// and synced at Commit, together with the others.
	f, err := writeNew(b.dir, name, name, write)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		delete(b.names, name)
		return File{}, fmt.Errorf("exportbundle: %s: %w", b.id, err)
	}
	f.ContentType = contentType
	b.files = append(b.files, f)
	return f, nil
}

// AddBytes adds a file holding data.
func (b *Bundle) AddBytes(name, contentType string, data []byte) (File, error) {
	return b.Add(name, contentType, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Commit writes the manifest and makes the bundle visible under its id in
// one rename. Files are listed in the order they were added. Calls of Add
// still running must have returned.
func (b *Bundle) Commit(labels map[string]string) (Manifest, error) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return Manifest{}, fmt.Errorf("exportbundle: %s: %w", b.id, ErrDone)
	}
	b.done = true
	files := slices.Clone(b.files)
	b.mu.Unlock()

	m := Manifest{Version: ManifestVersion, ID: b.id, Created: b.s.now().UTC(), Labels: labels, Files: files}
	if m.Files == nil {
		m.Files = []File{}
	}
	err := b.commit(m)
	if cerr := b.dir.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("exportbundle: %s: %w", b.id, cerr)
	}
	if err != nil {
		if rmErr := b.s.root.RemoveAll(b.staging); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("exportbundle: remove staging of %s: %w", b.id, rmErr))
		}
		return Manifest{}, err
	}
	return m, nil
}

func (b *Bundle) commit(m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("exportbundle: encode manifest of %s: %w", b.id, err)
	}
	data = append(data, '\n')
	if _, err := writeNew(b.dir, ManifestName, ManifestName, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	}); err != nil {
		return fmt.Errorf("exportbundle: %s: %w", b.id, err)
	}
	// Every file, and the staging directory that names them, reaches the
	// disk before the directory is renamed into view. The syncs run in
	// parallel, so the file system can commit them together.
	var g errgroup.Group
	g.SetLimit(syncParallelism)
	for _, name := range append(fileNames(m.Files), ManifestName) {
		g.Go(func() error { return syncFile(b.dir, name) })
	}
	g.Go(func() error { return syncDir(b.dir, ".") })
	if err := g.Wait(); err != nil {
		return fmt.Errorf("exportbundle: %s: %w", b.id, err)
	}
	if err := b.s.rename(b.staging, b.id); err != nil {
		return err
	}
	// The rename is synced outside the store's lock, so that commits
	// running together share the root directory's sync.
	if err := syncDir(b.s.root, "."); err != nil {
		return fmt.Errorf("exportbundle: commit %s: %w", b.id, err)
	}
	return nil
}

// rename makes the staging directory visible as id, unless a bundle id
// exists already.
func (s *Store) rename(staging, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exists(id) {
		return fmt.Errorf("exportbundle: %s: %w", id, ErrExists)
	}
	if err := s.root.Rename(staging, id); err != nil {
		return fmt.Errorf("exportbundle: commit %s: %w", id, err)
	}
	return nil
}

// Abort discards the bundle. It is safe to call after Commit (it then does
// nothing), so it can be deferred.
func (b *Bundle) Abort() error {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return nil
	}
	b.done = true
	b.mu.Unlock()
	err := b.dir.Close()
	if rmErr := b.s.root.RemoveAll(b.staging); rmErr != nil {
		return fmt.Errorf("exportbundle: abort %s: %w", b.id, rmErr)
	}
	if err != nil {
		return fmt.Errorf("exportbundle: abort %s: %w", b.id, err)
	}
	return nil
}
