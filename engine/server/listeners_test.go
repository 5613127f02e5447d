package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeListeners serves the API and the admin endpoints on listeners
// the caller opened, and closes both when the context ends.
func TestServeListeners(t *testing.T) {
	tests := []struct {
		name      string
		withAdmin bool
	}{
		{name: "api and admin", withAdmin: true},
		{name: "api only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testServer(t, &fakeMD{}, nil)
			api, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			var admin net.Listener
			if tt.withAdmin {
				admin, err = net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.ServeListeners(ctx, api, admin) }()
			for !s.ready.Load() {
				time.Sleep(time.Millisecond)
			}
			tr := &http.Transport{}
			hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			get := func(addr net.Addr, path string) int {
				res, err := hc.Get("http://" + addr.String() + path)
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return res.StatusCode
			}
			require.Equal(t, http.StatusOK, get(api.Addr(), "/readyz"))
			if admin != nil {
				require.Equal(t, http.StatusOK, get(admin.Addr(), "/metrics"))
			}
			tr.CloseIdleConnections()
			cancel()
			require.NoError(t, <-done)
			_, err = net.DialTimeout("tcp", api.Addr().String(), time.Second)
			require.Error(t, err, "the API listener is closed")
			if admin != nil {
				_, err = net.DialTimeout("tcp", admin.Addr().String(), time.Second)
				require.Error(t, err, "the admin listener is closed")
			}
		})
	}
}
