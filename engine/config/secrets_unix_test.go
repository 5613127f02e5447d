//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSecretFileMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "key.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := writeFile(t, "big", strings.Repeat("k", maxSecretBytes+1), 0o600)
	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "fifo", path: fifo, want: "not a regular file"},
		{name: "device", path: os.DevNull, want: "not a regular file"},
		{name: "directory", path: t.TempDir(), want: "not a regular file"},
		{name: "too large", path: big, want: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := loadWith(t, "", map[string]string{"FFE_LLM_API_KEY_FILE": tt.path})
				done <- err
			}()
			select {
			case err := <-done:
				var ce *Error
				require.ErrorAs(t, err, &ce)
				require.Contains(t, err.Error(), "FFE_LLM_API_KEY_FILE")
				require.Contains(t, err.Error(), tt.path)
				require.Contains(t, err.Error(), tt.want)
			case <-time.After(2 * time.Second):
				// Release the blocked open so the goroutine ends, then fail.
				if f, err := os.OpenFile(tt.path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
				<-done
				t.Fatal(errors.New("reading the secret file blocked"))
			}
		})
	}
}
