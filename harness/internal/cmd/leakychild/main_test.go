package main

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	in := strings.NewReader("fd-close\nconn-close " + ln.Addr().String() + "\nbogus\nexit\nfd\n")
	var out, errOut bytes.Buffer
	code := run([]string{"-timeout=10m"}, in, &out, &errOut)
	require.Zero(t, code, errOut.String())
	require.Equal(t, "ready\nok\nok\nerror: unknown command bogus\n", out.String())
}

func TestHeapCommands(t *testing.T) {
	defer func() { leaked = nil }()
	in := strings.NewReader("heap 1024\nheap-drop 2048\nheap x\nheap -1\nexit\n")
	var out, errOut bytes.Buffer
	require.Zero(t, run([]string{"-timeout=10m"}, in, &out, &errOut), errOut.String())
	require.Equal(t, "ready\nok\nok\nerror: strconv.Atoi: parsing \"x\": invalid syntax\nerror: negative size -1\n", out.String())
	require.Len(t, leaked, 1, "heap keeps, heap-drop does not")
	require.Len(t, leaked[0], 1024)
}

func TestBadFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 2, run([]string{"-nope"}, strings.NewReader(""), &out, &errOut))
	require.Contains(t, errOut.String(), "flag provided but not defined: -nope")
}
