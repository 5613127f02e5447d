//go:build linux

package harness_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leakgate/leakgate/harness"
)

// TestSamplerConns: Conns counts another process's connections by state,
// and with conns switched off Sample still counts its descriptors (without
// reading the connection tables).
func TestSamplerConns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()

	c := startChild(t, buildLeakyChild(t))
	s, err := harness.NewSampler(t.Context(),
		harness.WithTarget(harness.Process(c.cmd.Process.Pid)), harness.WithoutProbes(harness.MetricConns))
	require.NoError(t, err)
	defer s.Close()

	before, err := s.Sample(t.Context())
	require.NoError(t, err)
	require.Equal(t, -1, before.Conns, "conns switched off")
	states, err := s.Conns(t.Context())
	require.NoError(t, err)
	require.Zero(t, states["ESTABLISHED"])

	require.NoError(t, c.do("conn "+ln.Addr().String()))
	if peer, ok := <-accepted; ok {
		defer peer.Close()
	}
	after, err := s.Sample(t.Context())
	require.NoError(t, err)
	require.Equal(t, before.FDs+1, after.FDs)
	states, err = s.Conns(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, states["ESTABLISHED"])

	require.NoError(t, s.Close())
	_, err = s.Conns(t.Context())
	require.Error(t, err, "closed")
}
