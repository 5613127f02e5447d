// Package procfs reads a process's descriptors, TCP connections, threads,
// resident memory and child processes: the operating-system readings of
// the harness. It owns two backends behind one API (Open, and the methods
// of Proc):
//
//   - On Linux, Proc reads /proc directly: the fast path. It keeps the /proc
//     files it reads open between calls and reuses its buffers, so that the
//     counts taken after every iteration of a scenario cost a few system
//     calls and no allocation. The detailed listings (FDs, Children)
//     allocate and are meant for the baseline and final snapshots.
//   - On every other platform (macOS, Windows, the BSDs), Proc is Portable,
//     which reads through gopsutil: no file kept open, an allocation or a
//     command (lsof on macOS) per call, and what the platform cannot tell
//     reported as an error wrapping ErrUnsupported that names it. Portable
//     builds on Linux too, where tests check that it reads the same process
//     as Proc does.
//
// A process that is gone gives errors wrapping ErrExited with either
// backend.
//
// The parsers in this file are pure functions so that they can be tested on
// captured text on any platform; the /proc readers live in build-tagged
// files.
package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// ErrUnsupported is wrapped by the errors of readings that the platform
// cannot provide.
var ErrUnsupported = errors.New("procfs: unsupported on this platform")

// ErrExited is returned when the process is gone.
var ErrExited = errors.New("procfs: process exited")

// FD describes one open file descriptor.
type FD struct {
	Num    int    `json:"fd"`
	Kind   string `json:"kind"`   // file, socket, pipe, anon_inode, other
	Target string `json:"target"` // the readlink text of /proc/PID/fd/N
	Conn   *Conn  `json:"conn,omitempty"`
	Desc   string `json:"desc,omitempty"` // other sockets: "unix /run/x.sock", "udp 127.0.0.1:53"
}

// Key identifies the descriptor across snapshots: a number reused for a
// different object (a new socket inode, another path) gives another key.
func (f FD) Key() string { return strconv.Itoa(f.Num) + " " + f.Target }

// String describes the descriptor for a report, e.g.
// "socket tcp 127.0.0.1:41234->127.0.0.1:8080 ESTABLISHED", "file /tmp/x",
// "pipe", "anon_inode:[eventpoll]".
func (f FD) String() string {
	switch f.Kind {
	case KindFile:
		return "file " + f.Target
	case KindPipe:
		return "pipe"
	case KindSocket:
		if f.Conn != nil {
			return "socket " + f.Conn.String()
		}
		if f.Desc != "" {
			return "socket " + f.Desc
		}
		return f.Target
	default:
		return f.Target
	}
}

// Kinds of descriptor.
const (
	KindFile   = "file"
	KindSocket = "socket"
	KindPipe   = "pipe"
	KindAnon   = "anon_inode"
	KindOther  = "other"
)

// KindOf classifies a readlink target of /proc/PID/fd/N.
func KindOf(target string) string {
	switch {
	case len(target) > 0 && target[0] == '/':
		return KindFile
	case hasPrefix(target, "socket:"):
		return KindSocket
	case hasPrefix(target, "pipe:"):
		return KindPipe
	case hasPrefix(target, "anon_inode:"):
		return KindAnon
	default:
		return KindOther
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// SocketInode returns the inode of a "socket:[N]" target.
func SocketInode(target string) (uint64, bool) {
	if !hasPrefix(target, "socket:[") || target[len(target)-1] != ']' {
		return 0, false
	}
	n, err := strconv.ParseUint(target[len("socket:["):len(target)-1], 10, 64)
	return n, err == nil
}

// Conn is one TCP socket.
type Conn struct {
	Proto  string         `json:"proto"` // tcp or tcp6
	Local  netip.AddrPort `json:"local"`
	Remote netip.AddrPort `json:"remote"`
	State  string         `json:"state"`
	Inode  uint64         `json:"inode"`
}

// String is "tcp 127.0.0.1:41234->127.0.0.1:8080 ESTABLISHED", or
// "tcp 127.0.0.1:8080 LISTEN" for a socket without a peer.
func (c Conn) String() string {
	if c.State == "LISTEN" || !c.Remote.Addr().IsValid() || c.Remote.Port() == 0 {
		return fmt.Sprintf("tcp %s %s", c.Local, c.State)
	}
	return fmt.Sprintf("tcp %s->%s %s", c.Local, c.Remote, c.State)
}

// tcpStates are the kernel's TCP states, indexed by their number in
// /proc/net/tcp and in struct tcp_info.
var tcpStates = [...]string{
	1:  "ESTABLISHED",
	2:  "SYN_SENT",
	3:  "SYN_RECV",
	4:  "FIN_WAIT1",
	5:  "FIN_WAIT2",
	6:  "TIME_WAIT",
	7:  "CLOSE",
	8:  "CLOSE_WAIT",
	9:  "LAST_ACK",
	10: "LISTEN",
	11: "CLOSING",
	12: "NEW_SYN_RECV",
}

// StateName names a kernel TCP state number.
func StateName(n int) string {
	if n > 0 && n < len(tcpStates) {
		return tcpStates[n]
	}
	return "UNKNOWN(" + strconv.Itoa(n) + ")"
}

// ParseTCP parses the text of /proc/PID/net/tcp (v6 false) or tcp6 (v6
// true). Sockets without an inode (TIME_WAIT, owned by no descriptor) are
// skipped.
func ParseTCP(data []byte, v6 bool) ([]Conn, error) {
	var conns []Conn
	proto := "tcp"
	if v6 {
		proto = "tcp6"
	}
	for i, line := range bytes.Split(data, []byte{'\n'}) {
		if i == 0 || len(bytes.TrimSpace(line)) == 0 {
			continue // header
		}
		f := bytes.Fields(line)
		if len(f) < 10 {
			return nil, fmt.Errorf("parse %s line %d: %d fields, want at least 10", proto, i+1, len(f))
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s line %d: inode %q: %w", proto, i+1, f[9], err)
		}
		if inode == 0 {
			continue
		}
		local, err := parseHexAddr(f[1], v6)
		if err != nil {
			return nil, fmt.Errorf("parse %s line %d: local address: %w", proto, i+1, err)
		}
		remote, err := parseHexAddr(f[2], v6)
		if err != nil {
			return nil, fmt.Errorf("parse %s line %d: remote address: %w", proto, i+1, err)
		}
		st, err := strconv.ParseUint(string(f[3]), 16, 8)
		if err != nil {
			return nil, fmt.Errorf("parse %s line %d: state %q: %w", proto, i+1, f[3], err)
		}
		conns = append(conns, Conn{Proto: proto, Local: local, Remote: remote, State: StateName(int(st)), Inode: inode})
	}
	return conns, nil
}

// parseHexAddr parses "0100007F:1F90": an address as the kernel's 32-bit
// words in host byte order (little-endian here), and a big-endian hex port.
func parseHexAddr(b []byte, v6 bool) (netip.AddrPort, error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("%q: no port", b)
	}
	hexAddr, hexPort := b[:i], b[i+1:]
	port, err := strconv.ParseUint(string(hexPort), 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: port: %w", b, err)
	}
	n := 4
	if v6 {
		n = 16
	}
	if len(hexAddr) != 2*n {
		return netip.AddrPort{}, fmt.Errorf("%q: address has %d hex digits, want %d", b, len(hexAddr), 2*n)
	}
	var raw [16]byte
	for w := 0; w < n/4; w++ {
		word, err := strconv.ParseUint(string(hexAddr[8*w:8*w+8]), 16, 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%q: address: %w", b, err)
		}
		// Each 32-bit word is printed in host order; amd64 and arm64 are
		// little-endian.
		raw[4*w] = byte(word)
		raw[4*w+1] = byte(word >> 8)
		raw[4*w+2] = byte(word >> 16)
		raw[4*w+3] = byte(word >> 24)
	}
	var addr netip.Addr
	if v6 {
		addr = netip.AddrFrom16(raw).Unmap()
	} else {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// Stat holds the fields of /proc/PID/stat the harness uses.
type Stat struct {
	Comm     string
	State    byte
	PPID     int
	Threads  int
	RSSPages int64
}

// ParseStat parses /proc/PID/stat. The command name is in parentheses and
// may itself contain spaces and parentheses, so fields are counted from the
// last ')'.
func ParseStat(b []byte) (Stat, error) {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return Stat{}, fmt.Errorf("parse stat: no command name in %q", truncate(b))
	}
	st := Stat{Comm: string(b[open+1 : closing])}
	// After ") ": field 3 is state; num_threads is field 20 and rss field 24.
	rest := b[closing+1:]
	field := 2
	for len(rest) > 0 {
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		tok := bytes.TrimRight(rest[:end], "\n")
		rest = rest[end:]
		if len(tok) == 0 {
			continue
		}
		field++
		var err error
		switch field {
		case 3:
			st.State = tok[0]
		case 4:
			st.PPID, err = atoi(tok)
		case 20:
			st.Threads, err = atoi(tok)
		case 24:
			var n int
			n, err = atoi(tok)
			st.RSSPages = int64(n)
			return st, wrapField(field, tok, err)
		}
		if err != nil {
			return Stat{}, wrapField(field, tok, err)
		}
	}
	return Stat{}, fmt.Errorf("parse stat: %d fields, want at least 24", field)
}

func wrapField(field int, tok []byte, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("parse stat: field %d %q: %w", field, tok, err)
}

// atoi parses a non-negative decimal number without allocating.
func atoi(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errors.New("empty number")
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// CountFields counts the space-separated numbers in a
// /proc/PID/task/TID/children file.
func CountFields(b []byte) int {
	n := 0
	in := false
	for _, c := range b {
		sp := c == ' ' || c == '\n'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

// AppendFields appends the numbers of a children file to pids.
func AppendFields(pids []int, b []byte) []int {
	for _, f := range bytes.Fields(b) {
		if n, err := atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// Child is one child process.
type Child struct {
	PID   int    `json:"pid"`
	Comm  string `json:"comm"`
	State string `json:"state"` // R, S, Z (zombie: exited, not waited for), ...
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
