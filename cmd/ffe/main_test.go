package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/cli"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMainEntry runs the entry point main calls, with the process's signal
// handling, on commands that open no engine.
func TestMainEntry(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "help", args: []string{"--help"}, wantCode: cli.ExitOK, wantOut: "Available Commands"},
		{name: "unknown command", args: []string{"nope"}, wantCode: cli.ExitUsage, wantErr: `ffe: unknown command "nope"`},
		{name: "unknown flag", args: []string{"--nope"}, wantCode: cli.ExitUsage, wantErr: "unknown flag: --nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := cli.Main(tt.args, strings.NewReader(""), &out, &errb)
			require.Equal(t, tt.wantCode, code)
			require.Contains(t, out.String(), tt.wantOut)
			require.Contains(t, errb.String(), tt.wantErr)
		})
	}
}
