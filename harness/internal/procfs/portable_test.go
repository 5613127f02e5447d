package procfs

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"

	"github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
	"github.com/stretchr/testify/require"
)

func TestConvertConn(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		give net.ConnectionStat
		want Conn
	}{
		{
			name: "lsof established",
			give: net.ConnectionStat{Family: syscall.AF_INET, Laddr: net.Addr{IP: "127.0.0.1", Port: 41234}, Raddr: net.Addr{IP: "127.0.0.1", Port: 8080}, Status: "ESTABLISHED"},
			want: Conn{Proto: "tcp", Local: ap("127.0.0.1:41234"), Remote: ap("127.0.0.1:8080"), State: "ESTABLISHED"},
		},
		{
			name: "listener without peer",
			give: net.ConnectionStat{Family: syscall.AF_INET, Laddr: net.Addr{IP: "127.0.0.1", Port: 8080}, Status: "LISTEN"},
			want: Conn{Proto: "tcp", Local: ap("127.0.0.1:8080"), Remote: ap("0.0.0.0:0"), State: "LISTEN"},
		},
		{
			name: "v6 listener, lsof brackets",
			give: net.ConnectionStat{Family: syscall.AF_INET6, Laddr: net.Addr{IP: "[::1]", Port: 9}, Status: "LISTEN"},
			want: Conn{Proto: "tcp6", Local: ap("[::1]:9"), Remote: ap("[::]:0"), State: "LISTEN"},
		},
		{
			name: "v4-mapped, windows state",
			give: net.ConnectionStat{Family: syscall.AF_INET6, Laddr: net.Addr{IP: "::ffff:127.0.0.1", Port: 9}, Raddr: net.Addr{IP: "::ffff:127.0.0.1", Port: 10}, Status: "FIN_WAIT_2"},
			want: Conn{Proto: "tcp6", Local: ap("127.0.0.1:9"), Remote: ap("127.0.0.1:10"), State: "FIN_WAIT2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, *convertConn(tt.give))
		})
	}
}

func TestStateNames(t *testing.T) {
	tests := []struct{ give, want string }{
		{"ESTABLISHED", "ESTABLISHED"},
		{"FIN_WAIT_1", "FIN_WAIT1"},
		{"FIN_WAIT_2", "FIN_WAIT2"},
		{"SYN_RECEIVED", "SYN_RECV"},
		{"CLOSED", "CLOSE"},
		{"", "UNKNOWN"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, stateName(tt.give), tt.give)
	}
	letters := []struct{ give, want string }{
		{process.Running, "R"},
		{process.Sleep, "S"},
		{process.Zombie, "Z"},
		{process.Stop, "T"},
		{"odd", "?"},
	}
	for _, tt := range letters {
		require.Equal(t, tt.want, stateLetter(tt.give), tt.give)
	}
}

func TestIsNotImplemented(t *testing.T) {
	base := errors.New("not implemented yet")
	require.True(t, isNotImplemented(base))
	require.True(t, isNotImplemented(fmt.Errorf("x: %w", base)))
	require.False(t, isNotImplemented(errors.New("permission denied")))
	require.False(t, isNotImplemented(nil))

	p := &Portable{pid: 1, self: true}
	err := p.fail(t.Context(), "descriptor count", base)
	require.ErrorIs(t, err, ErrUnsupported)
	require.ErrorContains(t, err, "descriptor count on ")
}

// This process, read on any platform: what the platform lacks is
// ErrUnsupported, never another error.
func TestPortableSelf(t *testing.T) {
	p, err := OpenPortable(0)
	require.NoError(t, err)
	defer p.Close()
	threads, rss, err := p.ReadStat()
	require.NoError(t, err)
	require.Positive(t, threads)
	require.Positive(t, rss)
	if _, _, err := p.CountFDs(true); err != nil {
		require.ErrorIs(t, err, ErrUnsupported)
	}
	_, err = p.CountChildren()
	require.NoError(t, err)

	require.NoError(t, p.Close())
	require.NoError(t, p.Close())
	_, _, err = p.ReadStat()
	require.ErrorIs(t, err, errClosed)
}

func TestOpenPortableNoProcess(t *testing.T) {
	// PIDs are below 2^22 on Linux and far below on others.
	_, err := OpenPortable(1 << 30)
	require.ErrorIs(t, err, ErrExited)
}
