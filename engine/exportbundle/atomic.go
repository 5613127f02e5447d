package exportbundle

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/leakgate/leakgate/providers/leakinject"
)

// File and directory permissions of everything this package creates.
const (
	filePerm = 0o640
	dirPerm  = 0o750
)

// writeNew creates path inside root (it must not exist), fills it with
// write and closes it; the caller syncs it. On error the file is removed.
// name is the file's name in errors and in the returned File.
func writeNew(root *os.Root, path, name string, write func(io.Writer) error) (File, error) {
	f, err := root.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return File{}, fmt.Errorf("write %s: %w", name, err)
	}
	cw := &countingHash{h: sha256.New()}
	bw := bufio.NewWriterSize(io.MultiWriter(f, cw), 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	// The export-file-not-closed fault leaves the written file open: only
	// its finalizer closes it, at a later garbage collection.
	if !leakinject.On(leakinject.ExportFileNotClosed) {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return File{}, errors.Join(fmt.Errorf("write %s: %w", name, err), removeMissingOK(root, path))
	}
	return File{Name: name, Size: cw.n, SHA256: hex.EncodeToString(cw.h.Sum(nil))}, nil
}

// syncFile syncs the file at path inside root.
func syncFile(root *os.Root, path string) error {
	f, err := root.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	return nil
}

func removeMissingOK(root *os.Root, path string) error {
	err := root.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// syncDir syncs the directory dir of root, so renames inside it survive a
// crash.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// countingHash hashes and counts what is written to it.
type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}
