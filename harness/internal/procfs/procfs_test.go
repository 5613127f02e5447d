package procfs

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	goleak.VerifyTestMain(m)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func TestParseTCP(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		v6   bool
		want []Conn
	}{
		{
			name: "tcp",
			want: []Conn{
				{Proto: "tcp", Local: ap("127.0.0.1:8080"), Remote: ap("0.0.0.0:0"), State: "LISTEN", Inode: 4242},
				{Proto: "tcp", Local: ap("127.0.0.1:41186"), Remote: ap("127.0.0.1:8080"), State: "ESTABLISHED", Inode: 4243},
				{Proto: "tcp", Local: ap("127.0.0.1:8080"), Remote: ap("127.0.0.1:41186"), State: "ESTABLISHED", Inode: 4244},
				{Proto: "tcp", Local: ap("127.0.0.1:41190"), Remote: ap("127.0.0.1:8080"), State: "CLOSE_WAIT", Inode: 4245},
			},
		},
		{
			name: "tcp6",
			v6:   true,
			want: []Conn{
				{Proto: "tcp6", Local: ap("[::1]:36079"), Remote: ap("[::]:0"), State: "LISTEN", Inode: 26147},
				{Proto: "tcp6", Local: ap("127.0.0.1:8080"), Remote: ap("127.0.0.1:50000"), State: "ESTABLISHED", Inode: 26148},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTCP(readTestdata(t, tt.name), tt.v6)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseTCPErrors(t *testing.T) {
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tests := []struct {
		name    string
		give    string
		wantErr string
	}{
		{"short line", "   0: 0100007F:1F90 00000000:0000 0A\n", "parse tcp line 2: 4 fields, want at least 10"},
		{"bad inode", "   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 x\n", `parse tcp line 2: inode "x"`},
		{"no port", "   0: 0100007F 00000000:0000 0A 0:0 0:0 0 0 0 7\n", "parse tcp line 2: local address"},
		{"short address", "   0: 01007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 7\n", "address has 6 hex digits, want 8"},
		{"bad state", "   0: 0100007F:1F90 00000000:0000 ZZ 0:0 0:0 0 0 0 7\n", `state "ZZ"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTCP([]byte(header+tt.give), false)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		want    Stat
		wantErr string
	}{
		{
			name: "plain",
			give: "4242 (leakgate) S 1 4242 4242 0 -1 4194560 3166 0 0 0 6 2 0 0 20 0 7 0 1234 1249280000 2961 18446744073709551615 1 1 0 0 0 0 0\n",
			want: Stat{Comm: "leakgate", State: 'S', PPID: 1, Threads: 7, RSSPages: 2961},
		},
		{
			name: "command with spaces and parentheses",
			give: "9 (a (b) c) Z 8 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 5 0\n",
			want: Stat{Comm: "a (b) c", State: 'Z', PPID: 8, Threads: 1, RSSPages: 5},
		},
		{name: "no command", give: "9 x S 1", wantErr: "no command name"},
		{name: "short", give: "9 (x) S 1 2 3", wantErr: "6 fields, want at least 24"},
		{name: "bad threads", give: "9 (x) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 many 0 0 0 0", wantErr: `field 20 "many"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.give))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDescribe(t *testing.T) {
	conn := &Conn{Proto: "tcp", Local: netip.MustParseAddrPort("127.0.0.1:41234"), Remote: netip.MustParseAddrPort("127.0.0.1:8080"), State: "ESTABLISHED"}
	listen := &Conn{Proto: "tcp", Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: "LISTEN"}
	tests := []struct {
		give FD
		want string
	}{
		{FD{Kind: KindFile, Target: "/tmp/x"}, "file /tmp/x"},
		{FD{Kind: KindPipe, Target: "pipe:[12]"}, "pipe"},
		{FD{Kind: KindAnon, Target: "anon_inode:[eventpoll]"}, "anon_inode:[eventpoll]"},
		{FD{Kind: KindSocket, Target: "socket:[5]", Conn: conn}, "socket tcp 127.0.0.1:41234->127.0.0.1:8080 ESTABLISHED"},
		{FD{Kind: KindSocket, Target: "socket:[6]", Conn: listen}, "socket tcp 127.0.0.1:8080 LISTEN"},
		{FD{Kind: KindSocket, Target: "socket:[7]", Desc: "unix"}, "socket unix"},
		{FD{Kind: KindSocket, Target: "socket:[8]"}, "socket:[8]"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, tt.give.String())
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct{ give, want string }{
		{"/dev/null", KindFile},
		{"socket:[1]", KindSocket},
		{"pipe:[2]", KindPipe},
		{"anon_inode:[eventfd]", KindAnon},
		{"/memfd:x (deleted)", KindFile},
		{"net:[4026531840]", KindOther},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, KindOf(tt.give), tt.give)
	}
	ino, ok := SocketInode("socket:[4242]")
	require.True(t, ok)
	require.Equal(t, uint64(4242), ino)
	_, ok = SocketInode("pipe:[4242]")
	require.False(t, ok)
}

func TestCountFields(t *testing.T) {
	tests := []struct {
		give string
		want int
	}{
		{"", 0},
		{"12 ", 1},
		{"12 13 14 ", 3},
		{"12 13\n", 2},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, CountFields([]byte(tt.give)), tt.give)
		require.Len(t, AppendFields(nil, []byte(tt.give)), tt.want)
	}
}
