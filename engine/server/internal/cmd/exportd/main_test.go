package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "no db", args: []string{"-dir", "x"}},
		{name: "no dir", args: []string{"-db", "x"}},
		{name: "bad date", args: []string{"-db", "x", "-dir", "y", "-market-date", "soon"}},
		{name: "bad log format", args: []string{"-db", "x", "-dir", "y", "-log-format", "xml"}},
		{name: "unknown flag", args: []string{"-nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, 2, run(tt.args, io.Discard, io.Discard))
		})
	}
}
