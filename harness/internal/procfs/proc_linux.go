//go:build linux

package procfs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Proc reads one process's /proc entries. It is not safe for concurrent use.
// Call Close to release the files it keeps open.
type Proc struct {
	pid  int
	self bool
	dir  string

	fdDir   int // /proc/PID/fd, kept open for listing
	statFD  int // /proc/PID/stat, read with pread
	taskDir int // /proc/PID/task
	tasks   []task

	// own marks this Proc's descriptors, which are not counted when the
	// process is this one.
	own []bool

	pollfds []unix.PollFd
	fdCache []fdEntry // by descriptor number, from the previous count
	pollHi  int
	dents   []byte
	buf     []byte

	// sockets caches whether a socket inode is TCP; gen marks the entries
	// seen in the latest count so that closed sockets can be swept.
	sockets map[uint64]sockEntry
	gen     uint32

	lastThreads   int
	samples       int
	childrenCalls int
}

type task struct {
	tid int
	fd  int // /proc/PID/task/TID/children
}

type fdEntry struct {
	open    bool
	tcp     bool
	revents int16
}

type sockEntry struct {
	tcp bool
	gen uint32
}

var pageSize = int64(os.Getpagesize())

// Open starts reading the process pid; 0 means this process.
func Open(pid int) (*Proc, error) {
	self := pid == 0 || pid == os.Getpid()
	if self {
		pid = os.Getpid()
	}
	p := &Proc{
		pid:         pid,
		self:        self,
		dir:         "/proc/" + strconv.Itoa(pid),
		fdDir:       -1,
		statFD:      -1,
		taskDir:     -1,
		dents:       make([]byte, 16<<10),
		buf:         make([]byte, 8<<10),
		sockets:     make(map[uint64]sockEntry),
		lastThreads: -1,
	}
	var err error
	if p.fdDir, err = p.open("fd", unix.O_DIRECTORY); err != nil {
		return nil, err
	}
	if p.statFD, err = p.open("stat", 0); err != nil {
		p.Close()
		return nil, err
	}
	if p.taskDir, err = p.open("task", unix.O_DIRECTORY); err != nil {
		p.Close()
		return nil, err
	}
	nums, err := p.listFDs()
	if err != nil {
		p.Close()
		return nil, err
	}
	p.setPollHi(nums)
	return p, nil
}

func (p *Proc) open(name string, flags int) (int, error) {
	fd, err := unix.Open(p.dir+"/"+name, unix.O_RDONLY|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return -1, fmt.Errorf("open %s/%s: %w", p.dir, name, ErrExited)
		}
		return -1, fmt.Errorf("open %s/%s: %w", p.dir, name, err)
	}
	p.markOwn(fd, true)
	return fd, nil
}

func (p *Proc) markOwn(fd int, own bool) {
	for fd >= len(p.own) {
		p.own = append(p.own, false)
	}
	p.own[fd] = own
}

func (p *Proc) isOwn(fd int) bool { return p.self && fd < len(p.own) && p.own[fd] }

func (p *Proc) closeFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
		p.markOwn(fd, false)
	}
}

// Close releases the files the Proc keeps open.
func (p *Proc) Close() error {
	p.closeFD(p.fdDir)
	p.closeFD(p.statFD)
	p.closeFD(p.taskDir)
	for _, t := range p.tasks {
		p.closeFD(t.fd)
	}
	p.fdDir, p.statFD, p.taskDir, p.tasks = -1, -1, -1, nil
	return nil
}

// readDir lists the numeric names of an open /proc directory, calling f for
// each; it does not allocate.
func (p *Proc) readDir(dirfd int, f func(name []byte)) error {
	if _, err := unix.Seek(dirfd, 0, 0); err != nil {
		return p.wrap("seek", err)
	}
	for {
		n, err := unix.Getdents(dirfd, p.dents)
		if err != nil {
			return p.wrap("getdents", err)
		}
		if n <= 0 {
			return nil
		}
		b := p.dents[:n]
		for len(b) >= 19 {
			// struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name.
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen == 0 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			if len(name) > 0 && name[0] != '.' {
				f(name)
			}
			b = b[reclen:]
		}
	}
}

func (p *Proc) wrap(op string, err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("%s %s: %w", op, p.dir, ErrExited)
	}
	return fmt.Errorf("%s %s: %w", op, p.dir, err)
}

// listFDs returns the open descriptor numbers, without this Proc's own.
func (p *Proc) listFDs() ([]int, error) {
	var nums []int
	err := p.readDir(p.fdDir, func(name []byte) {
		if n, err := atoi(name); err == nil && !p.isOwn(n) {
			nums = append(nums, n)
		}
	})
	return nums, err
}

func (p *Proc) setPollHi(nums []int) {
	hi := 256
	for _, n := range nums {
		for n >= hi/2 {
			hi *= 2
		}
	}
	if hi > p.pollHi {
		p.pollHi = hi
	}
}

// CountFDs counts the open descriptors and, among them, the TCP sockets.
//
// For this process it enumerates descriptors with one poll(2) call over the
// numbers below twice the highest descriptor seen (at least 256). An exact
// count then fstat(2)s each descriptor to tell sockets from the rest; a
// quick count fstat(2)s only descriptors that are new since the previous
// count or whose poll events changed, and trusts the previous
// classification for the others. A quick count can misclassify a number
// that was closed and reused, between two counts, by an object of another
// type with the same poll events (an idle TCP connection replaced by the
// write end of a pipe); the total is always right.
//
// Another process's descriptors are listed from /proc/PID/fd and read with
// readlink(2); exact makes no difference.
func (p *Proc) CountFDs(exact bool) (fds, tcp int, err error) {
	p.gen++
	p.samples++
	if p.self {
		fds, tcp, err = p.countSelf(exact)
	} else {
		fds, tcp, err = p.countOther()
	}
	if len(p.sockets) > 64 && p.samples%16 == 0 {
		for ino, e := range p.sockets {
			if e.gen != p.gen {
				delete(p.sockets, ino)
			}
		}
	}
	return fds, tcp, err
}

// CountOnly counts the open descriptors without classifying them: for
// another process it reads no connection table, so it is cheap however
// many sockets come and go.
func (p *Proc) CountOnly() (int, error) {
	if p.self {
		fds, _, err := p.CountFDs(false)
		return fds, err
	}
	fds := 0
	err := p.readDir(p.fdDir, func([]byte) { fds++ })
	return fds, err
}

// pollEvents are asked of every descriptor so that the returned events tell
// apart, roughly, a file, a socket, a pipe end and an event descriptor.
const pollEvents = unix.POLLIN | unix.POLLOUT | unix.POLLPRI | unix.POLLRDHUP

func (p *Proc) countSelf(exact bool) (fds, tcp int, err error) {
	for {
		if len(p.pollfds) < p.pollHi {
			p.pollfds = make([]unix.PollFd, p.pollHi)
			p.fdCache = append(p.fdCache, make([]fdEntry, p.pollHi-len(p.fdCache))...)
		}
		pfds := p.pollfds[:p.pollHi]
		for i := range pfds {
			pfds[i] = unix.PollFd{Fd: int32(i), Events: pollEvents}
		}
		for {
			_, err = unix.Poll(pfds, 0)
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			return 0, 0, fmt.Errorf("poll: %w", err)
		}
		grow := false
		for i := len(pfds) / 2; i < len(pfds); i++ {
			if pfds[i].Revents&unix.POLLNVAL == 0 {
				grow = true
				break
			}
		}
		if !grow {
			break
		}
		p.pollHi *= 2
	}
	var st unix.Stat_t
	for i, pfd := range p.pollfds[:p.pollHi] {
		e := &p.fdCache[i]
		if pfd.Revents&unix.POLLNVAL != 0 || p.isOwn(i) {
			e.open = false
			continue
		}
		if exact || !e.open || e.revents != pfd.Revents {
			if unix.Fstat(i, &st) != nil {
				e.open = false
				continue // closed since the poll
			}
			*e = fdEntry{open: true, revents: pfd.Revents}
			if st.Mode&unix.S_IFMT == unix.S_IFSOCK {
				s, ok := p.sockets[st.Ino]
				if !ok {
					s.tcp = isTCPSocket(i)
				}
				s.gen = p.gen
				p.sockets[st.Ino] = s
				e.tcp = s.tcp
			}
		}
		fds++
		if e.tcp {
			tcp++
		}
	}
	return fds, tcp, nil
}

// isTCPProto reports whether a socket protocol is TCP. Go listeners use
// Multipath TCP where the kernel has it; their accepted connections from
// plain TCP clients are TCP.
func isTCPProto(proto int) bool { return proto == unix.IPPROTO_TCP || proto == unix.IPPROTO_MPTCP }

func isTCPSocket(fd int) bool {
	proto, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	if err != nil || !isTCPProto(proto) {
		return false
	}
	domain, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	return err == nil && (domain == unix.AF_INET || domain == unix.AF_INET6)
}

func (p *Proc) countOther() (fds, tcp int, err error) {
	var unknown []uint64
	link := p.buf[:256]
	err = p.readDir(p.fdDir, func(name []byte) {
		fds++
		n, lerr := unix.Readlinkat(p.fdDir, string(name), link)
		if lerr != nil || n == 0 {
			return
		}
		ino, ok := SocketInode(string(link[:n]))
		if !ok {
			return
		}
		e, ok := p.sockets[ino]
		if !ok {
			unknown = append(unknown, ino)
			return
		}
		e.gen = p.gen
		p.sockets[ino] = e
		if e.tcp {
			tcp++
		}
	})
	if err != nil || len(unknown) == 0 {
		return fds, tcp, err
	}
	conns, err := p.tcpTable()
	if err != nil {
		return fds, tcp, err
	}
	known := make(map[uint64]bool, len(conns))
	for _, c := range conns {
		known[c.Inode] = true
	}
	for _, ino := range unknown {
		p.sockets[ino] = sockEntry{tcp: known[ino], gen: p.gen}
		if known[ino] {
			tcp++
		}
	}
	return fds, tcp, nil
}

// tcpTable reads the process's network namespace TCP tables.
func (p *Proc) tcpTable() ([]Conn, error) {
	var all []Conn
	for _, v6 := range []bool{false, true} {
		name := p.dir + "/net/tcp"
		if v6 {
			name += "6"
		}
		data, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) && v6 {
			continue // IPv6 disabled
		}
		if err != nil {
			return nil, p.wrap("read tcp table", err)
		}
		conns, err := ParseTCP(data, v6)
		if err != nil {
			return nil, err
		}
		all = append(all, conns...)
	}
	return all, nil
}

// ReadStat reads /proc/PID/stat.
func (p *Proc) ReadStat() (threads int, rss int64, err error) {
	n, err := unix.Pread(p.statFD, p.buf, 0)
	if err != nil {
		return 0, 0, p.wrap("read stat", err)
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("read %s/stat: %w", p.dir, ErrExited)
	}
	st, err := ParseStat(p.buf[:n])
	if err != nil {
		return 0, 0, err
	}
	p.lastThreads = st.Threads
	return st.Threads, st.RSSPages * pageSize, nil
}

// refreshTasks relists the threads and opens the children file of new ones.
func (p *Proc) refreshTasks() error {
	var tids []int
	err := p.readDir(p.taskDir, func(name []byte) {
		if n, err := atoi(name); err == nil {
			tids = append(tids, n)
		}
	})
	if err != nil {
		return err
	}
	kept := p.tasks[:0]
	for _, t := range p.tasks {
		if slices.Contains(tids, t.tid) {
			kept = append(kept, t)
		} else {
			p.closeFD(t.fd)
		}
	}
	p.tasks = kept
	for _, tid := range tids {
		if slices.ContainsFunc(p.tasks, func(t task) bool { return t.tid == tid }) {
			continue
		}
		fd, err := p.open("task/"+strconv.Itoa(tid)+"/children", 0)
		if err != nil {
			continue // the thread exited
		}
		p.tasks = append(p.tasks, task{tid: tid, fd: fd})
	}
	return nil
}

// CountChildren counts the child processes of all threads. The thread list
// is refreshed when the thread count from the latest ReadStat changed, and
// every eighth call.
func (p *Proc) CountChildren() (int, error) {
	p.childrenCalls++
	if p.lastThreads != len(p.tasks) || p.childrenCalls%8 == 0 {
		if err := p.refreshTasks(); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, t := range p.tasks {
		m, err := unix.Pread(t.fd, p.buf, 0)
		if err != nil {
			continue // the thread exited
		}
		n += CountFields(p.buf[:m])
	}
	return n, nil
}

// FDs lists the open descriptors with their descriptions; TCP sockets carry
// their endpoints and state.
func (p *Proc) FDs() ([]FD, error) {
	nums, err := p.listFDs()
	if err != nil {
		return nil, err
	}
	p.setPollHi(nums)
	slices.Sort(nums)
	var table map[uint64]Conn
	link := make([]byte, 512)
	out := make([]FD, 0, len(nums))
	for _, num := range nums {
		n, err := unix.Readlinkat(p.fdDir, strconv.Itoa(num), link)
		if err != nil {
			continue // closed since the listing
		}
		f := FD{Num: num, Target: string(link[:n])}
		f.Kind = KindOf(f.Target)
		if f.Kind == KindSocket {
			ino, _ := SocketInode(f.Target)
			if p.self {
				f.Conn, f.Desc = describeSocket(num, ino)
			} else {
				if table == nil {
					conns, err := p.tcpTable()
					if err != nil {
						return nil, err
					}
					table = make(map[uint64]Conn, len(conns))
					for _, c := range conns {
						table[c.Inode] = c
					}
				}
				if c, ok := table[ino]; ok {
					f.Conn = &c
				}
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// describeSocket describes a socket of this process from its descriptor.
func describeSocket(fd int, ino uint64) (*Conn, string) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Ino != ino {
		return nil, "" // closed or reused since the listing
	}
	domain, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	typ, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	proto, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	switch domain {
	case unix.AF_UNIX:
		name := "unix"
		if sa, err := unix.Getsockname(fd); err == nil {
			if u, ok := sa.(*unix.SockaddrUnix); ok && u.Name != "" {
				name += " " + u.Name
			}
		}
		return nil, name
	case unix.AF_INET, unix.AF_INET6:
	case unix.AF_NETLINK:
		return nil, "netlink"
	default:
		return nil, ""
	}
	local, remote := sockAddr(unix.Getsockname(fd)), sockAddr(unix.Getpeername(fd))
	if isTCPProto(proto) {
		c := &Conn{Proto: "tcp", Local: local, Remote: remote, Inode: ino, State: "UNKNOWN"}
		if domain == unix.AF_INET6 {
			c.Proto = "tcp6"
		}
		if info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			c.State = StateName(int(info.State))
		} else if acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err == nil && acc == 1 {
			c.State = "LISTEN"
		}
		return c, ""
	}
	kind := "udp"
	if typ != unix.SOCK_DGRAM {
		kind = "inet type " + strconv.Itoa(typ)
	}
	if remote.IsValid() {
		return nil, fmt.Sprintf("%s %s->%s", kind, local, remote)
	}
	return nil, fmt.Sprintf("%s %s", kind, local)
}

func sockAddr(sa unix.Sockaddr, err error) netip.AddrPort {
	if err != nil {
		return netip.AddrPort{}
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// Children lists the child processes.
func (p *Proc) Children() ([]Child, error) {
	if err := p.refreshTasks(); err != nil {
		return nil, err
	}
	var pids []int
	for _, t := range p.tasks {
		m, err := unix.Pread(t.fd, p.buf, 0)
		if err != nil {
			continue
		}
		pids = AppendFields(pids, p.buf[:m])
	}
	slices.Sort(pids)
	out := make([]Child, 0, len(pids))
	for _, pid := range pids {
		c := Child{PID: pid, Comm: "?", State: "?"}
		if data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if st, err := ParseStat(data); err == nil {
				c.Comm, c.State = st.Comm, string(st.State)
			}
		}
		out = append(out, c)
	}
	return out, nil
}
