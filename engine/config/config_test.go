package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/engine/server"
	"github.com/leakgate/leakgate/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// envOf returns a LookupEnv over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), mode))
	require.NoError(t, os.Chmod(p, mode))
	return p
}

func TestLoadDefaults(t *testing.T) {
	home := t.TempDir()
	cfg, err := Load(LoadOptions{LookupEnv: envOf(map[string]string{"HOME": home})})
	require.NoError(t, err)
	require.Equal(t, SourceSandbox, cfg.Data.Source)
	require.Equal(t, PlatformPaper, cfg.Platform.Name)
	require.Equal(t, filepath.Join(home, ".local", "share", "ffe"), cfg.DataDir)
	require.Empty(t, cfg.File)
	require.Empty(t, cfg.SecretValues())
}

func TestLoadDataDirPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", "data_dir: /from/file\n", 0o644)
	tests := []struct {
		name string
		env  map[string]string
		flag string
		want string
	}{
		{name: "xdg", env: map[string]string{"XDG_DATA_HOME": "/xdg", "FFE_CONFIG": "/nonexistent-ok"}, want: ""},
		{name: "file", env: map[string]string{"HOME": "/h"}, want: "/from/file"},
		{name: "env", env: map[string]string{"HOME": "/h", "FFE_DATA_DIR": "/from/env"}, want: "/from/env"},
		{name: "flag", env: map[string]string{"HOME": "/h", "FFE_DATA_DIR": "/from/env"}, flag: "/from/flag", want: "/from/flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := file
			if tt.want == "" {
				// XDG default: no file at all.
				path = ""
				delete(tt.env, "FFE_CONFIG")
				tt.want = "/xdg/ffe"
			}
			cfg, err := Load(LoadOptions{Path: path, DataDir: tt.flag, LookupEnv: envOf(tt.env)})
			require.NoError(t, err)
			require.Equal(t, tt.want, cfg.DataDir)
		})
	}
}

func TestLoadFileAndEnv(t *testing.T) {
	file := writeFile(t, "config.yaml", `
data:
  source: live
  sandbox_url: http://127.0.0.1:9999
providers:
  polygon:
    base_url: http://127.0.0.1:1/polygon
    rate_limit: 5
    enabled: false
routing:
  equity: [yahoo, polygon]
risk:
  max_position_share: 0.25
watchlist: [msft, btc-usd]
agent:
  interval: 90s
  confidence_threshold: 0.7
`, 0o644)
	env := envOf(map[string]string{
		"HOME":                           "/h",
		"FFE_AGENT_MAX_CYCLES":           "3",
		"FFE_RISK_MAX_DAILY_LOSS":        "0.02",
		"FFE_ROUTING_CRYPTO":             "coinbase, polygon",
		"FFE_PROVIDERS_YAHOO_BASE_URL":   "http://127.0.0.1:2/yahoo",
		"FFE_SENTIMENT_ENABLED":          "true",
		"FFE_PROVIDERS_FINNHUB_ENABLED":  "true",
		"FFE_ALPHAVANTAGE_API_KEY":       "av-secret-123",
		"FFE_FEES_SLIPPAGE_BPS":          "2.5",
		"FFE_MEMORY_RETENTION":           "720h",
		"FFE_PROVIDERS_POLYGON_BURST":    "4",
		"FFE_DATA_HISTORY_BARS":          "200",
		"FFE_PROVIDERS_OANDA_ACCOUNT_ID": "101-001-1",
	})
	cfg, err := Load(LoadOptions{Path: file, LookupEnv: env})
	require.NoError(t, err)
	require.Equal(t, file, cfg.File)
	require.Equal(t, SourceLive, cfg.Data.Source)
	require.Equal(t, "http://127.0.0.1:9999", cfg.Data.SandboxURL)
	require.Equal(t, 5.0, cfg.Providers[Polygon].RateLimit)
	require.Equal(t, 4, cfg.Providers[Polygon].Burst)
	on, set := cfg.Providers[Polygon].IsEnabled()
	require.True(t, set)
	require.False(t, on)
	on, set = cfg.Providers[Finnhub].IsEnabled()
	require.True(t, set && on)
	require.Equal(t, "http://127.0.0.1:2/yahoo", cfg.Providers[Yahoo].BaseURL)
	require.Equal(t, "101-001-1", cfg.Providers[OANDA].AccountID)
	require.Equal(t, []string{Yahoo, Polygon}, cfg.Routing[providers.Equity])
	require.Equal(t, []string{Coinbase, Polygon}, cfg.Routing[providers.Crypto])
	require.Equal(t, Default().Routing[providers.Forex], cfg.Routing[providers.Forex])
	require.Equal(t, 0.25, cfg.Risk.MaxPositionShare)
	require.Equal(t, 0.02, cfg.Risk.MaxDailyLoss)
	require.Equal(t, []string{"msft", "btc-usd"}, cfg.Watchlist)
	require.Equal(t, 90*time.Second, cfg.Agent.Interval)
	require.Equal(t, 3, cfg.Agent.MaxCycles)
	require.Equal(t, 0.7, cfg.Agent.ConfidenceThreshold)
	require.True(t, cfg.Sentiment.Enabled)
	require.Equal(t, 2.5, cfg.Fees.SlippageBps)
	require.Equal(t, 720*time.Hour, cfg.Memory.Retention)
	require.Equal(t, 200, cfg.Data.HistoryBars)
	require.Equal(t, "av-secret-123", cfg.Secret(AlphaVantage, "api_key"))
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		env  map[string]string
		want []string // substrings of the error
	}{
		{name: "unknown top key", body: "data:\n  source: sandbox\nwatchlst: [A]\n",
			want: []string{"line 3", `unknown key "watchlst"`, "watchlist"}},
		{name: "unknown nested key", body: "risk:\n  max_position_share: 0.1\n  max_loss: 1\n",
			want: []string{"line 3", `unknown key "max_loss" in risk`, "max_daily_loss"}},
		{name: "unknown provider", body: "providers:\n  polygone: {}\n",
			want: []string{"line 2", `unknown key "polygone" in providers`}},
		{name: "secret in body", body: "providers:\n  oanda:\n    token: abc123secret\n",
			want: []string{"line 3", "FFE_OANDA_TOKEN", "token_file"}},
		{name: "bad duration", body: "agent:\n  interval: 15 minutes\n",
			want: []string{"line 2", "agent.interval", "15m"}},
		{name: "bad type", body: "risk: 3\n", want: []string{"line 1", "risk: want a mapping"}},
		{name: "bad yaml", body: "risk: [\n", want: []string{"not valid YAML"}},
		{name: "bad value", body: "risk:\n  max_position_share: 1.5\n", want: []string{"max_position_share 1.5", "(0, 1]"}},
		{name: "bad source", body: "data:\n  source: web\n", want: []string{`data.source "web"`, "sandbox"}},
		{name: "bad route", body: "routing:\n  equity: [reddit]\n", want: []string{"routing.equity", "reddit"}},
		{name: "bad platform", body: "platform:\n  name: binance\n", want: []string{"platform.name", "paper"}},
		{name: "bad watchlist", body: "watchlist: ['A B']\n", want: []string{"watchlist[0]", "bad symbol"}},
		{name: "secret file on wrong provider", body: "providers:\n  yahoo:\n    api_key_file: /x\n",
			want: []string{"yahoo takes no api_key"}},
		{name: "bad env", env: map[string]string{"FFE_AGENT_MAX_CYCLES": "many"},
			want: []string{"FFE_AGENT_MAX_CYCLES", "whole number"}},
		{name: "bad env duration", env: map[string]string{"FFE_AGENT_INTERVAL": "5"},
			want: []string{"FFE_AGENT_INTERVAL", "duration"}},
		{name: "server token in body", body: "server:\n  listen: 127.0.0.1:1\n  token: abc123secret\n",
			want: []string{"line 3", "FFE_SERVER_TOKEN", "server.token_file"}},
		{name: "unknown server key", body: "server:\n  addr: 127.0.0.1:1\n",
			want: []string{"line 2", `unknown key "addr" in server`, "listen"}},
		{name: "bad listen", body: "server:\n  listen: localhost\n", want: []string{"server.listen", "host:port"}},
		{name: "bad listen port", env: map[string]string{"FFE_SERVER_LISTEN": "127.0.0.1:70000"},
			want: []string{"server.listen", "0 to 65535"}},
		{name: "bad admin listen", body: "server:\n  admin_listen: nowhere\n", want: []string{"server.admin_listen", `"off"`}},
		{name: "bad workers", env: map[string]string{"FFE_SERVER_WORKERS": "-1"}, want: []string{"server.workers -1", "0 is the default"}},
		{name: "bad grace", body: "server:\n  shutdown_grace: -1s\n", want: []string{"server.shutdown_grace", "positive"}},
		{name: "retention 0 names -1", env: map[string]string{"FFE_SERVER_RETENTION_KEEP_JOBS": "0"},
			want: []string{"server.retention.keep_jobs 0", "write -1 to turn it off", "default (1000)"}},
		{name: "retention age 0 names -1s", body: "server:\n  retention:\n    export_max_age: 0s\n",
			want: []string{"server.retention.export_max_age 0", "write -1s"}},
		{name: "memory retention 0 names -1s", body: "memory:\n  retention: 0s\n",
			want: []string{"memory.retention 0", "write -1s", "default (8760h0m0s)"}},
		{name: "memory retention 0 from the environment", env: map[string]string{"FFE_MEMORY_RETENTION": "0s"},
			want: []string{"memory.retention 0", "write -1s"}},
		{name: "bad memory keep", body: "memory:\n  keep: -1\n", want: []string{"memory.keep -1", "0 (no limit)"}},
		{name: "bad writer", body: "server:\n  crew:\n    writer: gpt\n", want: []string{`server.crew.writer "gpt"`, "local or llm"}},
		{name: "bad crew memory", body: "server:\n  crew:\n    memory:\n      entries: -1\n", want: []string{"server.crew.memory", "enabled: false"}},
		{name: "bad monitor", env: map[string]string{"FFE_SERVER_MONITOR_THRESHOLD": "2"}, want: []string{"server.monitor", "[0, 1)"}},
		{name: "bad log format", env: map[string]string{"FFE_LOG_FORMAT": "xml"}, want: []string{`log.format "xml"`, "text or json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, "config.yaml", tt.body, 0o644)
			env := map[string]string{"HOME": "/h"}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := Load(LoadOptions{Path: file, LookupEnv: envOf(env)})
			require.Error(t, err)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "abc123secret")
		})
	}
}

func TestLoadMissingExplicitFile(t *testing.T) {
	_, err := Load(LoadOptions{Path: filepath.Join(t.TempDir(), "nope.yaml"), LookupEnv: envOf(map[string]string{"HOME": "/h"})})
	require.ErrorIs(t, err, ErrNotFound)
}

func TestSecretFiles(t *testing.T) {
	const secret = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----"
	tests := []struct {
		name    string
		mode    os.FileMode
		viaEnv  bool
		wantErr string
	}{
		{name: "yaml 0600", mode: 0o600},
		{name: "yaml 0400", mode: 0o400},
		{name: "env 0600", mode: 0o600, viaEnv: true},
		{name: "yaml 0644", mode: 0o644, wantErr: "mode 0644"},
		{name: "env 0640", mode: 0o640, viaEnv: true, wantErr: "chmod 600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyFile := writeFile(t, "key.pem", secret+"\n", tt.mode)
			env := map[string]string{"HOME": "/h"}
			body := ""
			if tt.viaEnv {
				env["FFE_COINBASE_PRIVATE_KEY_FILE"] = keyFile
			} else {
				body = "providers:\n  coinbase:\n    private_key_file: " + keyFile + "\n"
			}
			file := writeFile(t, "config.yaml", body, 0o644)
			cfg, err := Load(LoadOptions{Path: file, LookupEnv: envOf(env)})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), "MHcCAQEEI")
				return
			}
			require.NoError(t, err)
			require.Equal(t, secret, cfg.Secret(Coinbase, "private_key"))
		})
	}
}

func TestWriteYAMLRedacts(t *testing.T) {
	env := envOf(map[string]string{"HOME": "/h", "FFE_OANDA_TOKEN": "tok-very-secret", "FFE_POLYGON_API_KEY": "pk-secret"})
	cfg, err := Load(LoadOptions{LookupEnv: env})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, cfg.WriteYAML(&buf))
	out := buf.String()
	require.NotContains(t, out, "tok-very-secret")
	require.NotContains(t, out, "pk-secret")
	require.Contains(t, out, "oanda.token:\n    env: FFE_OANDA_TOKEN\n    value: REDACTED")
	require.Contains(t, out, "llm.api_key:\n    env: FFE_LLM_API_KEY\n    value: unset")
	require.Contains(t, out, "interval: 15m0s")
	require.Contains(t, out, "source: sandbox")

	// The output is itself a valid config once the report-only keys go.
	m, err := cfg.Map()
	require.NoError(t, err)
	require.Equal(t, "sandbox", m["data"].(map[string]any)["source"])
}

func TestSecretSpecs(t *testing.T) {
	var envs []string
	for _, s := range SecretSpecs() {
		envs = append(envs, s.Env)
	}
	require.Equal(t, []string{
		"FFE_ALPHAVANTAGE_API_KEY", "FFE_POLYGON_API_KEY", "FFE_FINNHUB_API_KEY",
		"FFE_COINBASE_KEY_NAME", "FFE_COINBASE_PRIVATE_KEY", "FFE_OANDA_TOKEN",
		"FFE_REDDIT_CLIENT_ID", "FFE_REDDIT_CLIENT_SECRET", "FFE_LLM_API_KEY", "FFE_SERVER_TOKEN",
	}, envs)
}

func TestClone(t *testing.T) {
	cfg := Default()
	cfg.SetSecret(OANDA, "token", "x-secret")
	c := cfg.Clone()
	c.Routing[providers.Equity][0] = "changed"
	c.Watchlist[0] = "changed"
	c.SetSecret(OANDA, "token", "")
	require.Equal(t, AlphaVantage, cfg.Routing[providers.Equity][0])
	require.Equal(t, "AAPL", cfg.Watchlist[0])
	require.Equal(t, "x-secret", cfg.Secret(OANDA, "token"))
}

func TestServerSection(t *testing.T) {
	home := t.TempDir()
	cfg, err := Load(LoadOptions{LookupEnv: envOf(map[string]string{"HOME": home})})
	require.NoError(t, err)
	s := cfg.Server
	require.Equal(t, "127.0.0.1:8740", s.Listen)
	require.Equal(t, "127.0.0.1:9091", s.AdminListen)
	require.Equal(t, filepath.Join(home, ".local", "share", "ffe", "exports"), s.ExportDir)
	require.Equal(t, s.ExportDir, cfg.ServerExportDir())
	require.Equal(t, WriterLocal, s.Crew.Writer)
	require.False(t, s.Crew.Memory.Enabled)
	require.True(t, s.Monitor.Enabled)
	require.Equal(t, 30*time.Second, s.ShutdownGrace)
	require.Empty(t, cfg.ServerToken())

	// Without Load, the export directory still follows data_dir.
	d := Default()
	d.DataDir = "/d"
	require.Equal(t, filepath.Join("/d", "exports"), d.ServerExportDir())

	file := writeFile(t, "config.yaml", `
server:
  listen: 0.0.0.0:9000
  admin_listen: "off"
  export_dir: /srv/exports
  workers: 4
  job_timeout: 2m
  retention:
    keep_exports: -1
    job_max_age: 48h
  crew:
    by_default: true
    writer: llm
    memory: {enabled: true, entries: 8, max_age: 1h}
  monitor: {enabled: false}
log:
  format: json
`, 0o644)
	cfg, err = Load(LoadOptions{Path: file, DataDir: "/flag", LookupEnv: envOf(map[string]string{
		"HOME": home, "FFE_SERVER_QUEUE_CAPACITY": "7", "FFE_SERVER_SHUTDOWN_GRACE": "5s", "FFE_SERVER_MONITOR_INTERVAL": "10s",
	})})
	require.NoError(t, err)
	s = cfg.Server
	require.Equal(t, "0.0.0.0:9000", s.Listen)
	require.Equal(t, AdminOff, s.AdminListen)
	require.Equal(t, "/srv/exports", s.ExportDir)
	require.Equal(t, 4, s.Workers)
	require.Equal(t, 7, s.QueueCapacity)
	require.Equal(t, 2*time.Minute, s.JobTimeout)
	require.Equal(t, 5*time.Second, s.ShutdownGrace)
	require.Equal(t, Retention{KeepExports: -1, ExportMaxAge: 7 * 24 * time.Hour, KeepJobs: 1000, JobMaxAge: 48 * time.Hour}, s.Retention)
	require.Equal(t, Crew{ByDefault: true, Writer: WriterLLM, Memory: CrewMemory{Enabled: true, Entries: 8, MaxAge: time.Hour}}, s.Crew)
	require.Equal(t, Monitor{Enabled: false, Interval: 10 * time.Second, Threshold: 0.02}, s.Monitor)
	require.Equal(t, "json", cfg.Log.Format)
}

func TestServerToken(t *testing.T) {
	const token = "srv-token-very-secret"
	tests := []struct {
		name    string
		env     map[string]string
		body    string // a config file when set; %s is the token file
		mode    os.FileMode
		wantErr string
	}{
		{name: "env", env: map[string]string{"FFE_SERVER_TOKEN": token}},
		{name: "env file", env: map[string]string{"FFE_SERVER_TOKEN_FILE": "%s"}, mode: 0o600},
		{name: "yaml file", body: "server:\n  token_file: %s\n", mode: 0o600},
		{name: "yaml file open to others", body: "server:\n  token_file: %s\n", mode: 0o644, wantErr: "server.token_file: secret file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokenFile := writeFile(t, "token", token+"\n", max(tt.mode, 0o600))
			require.NoError(t, os.Chmod(tokenFile, max(tt.mode, 0o600)))
			env := map[string]string{"HOME": "/h"}
			for k, v := range tt.env {
				env[k] = strings.ReplaceAll(v, "%s", tokenFile)
			}
			path := ""
			if tt.body != "" {
				path = writeFile(t, "config.yaml", strings.ReplaceAll(tt.body, "%s", tokenFile), 0o644)
			}
			cfg, err := Load(LoadOptions{Path: path, LookupEnv: envOf(env)})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.NotContains(t, err.Error(), token)
				return
			}
			require.NoError(t, err)
			require.Equal(t, token, cfg.ServerToken())
			require.Contains(t, cfg.SecretValues(), token, "registered with the providers' redactors")

			var buf bytes.Buffer
			require.NoError(t, cfg.WriteYAML(&buf))
			out := buf.String()
			require.NotContains(t, out, token)
			require.Contains(t, out, "server.token:\n    env: FFE_SERVER_TOKEN\n    value: REDACTED")
			require.Contains(t, out, "server:\n  listen: 127.0.0.1:8740\n  admin_listen: 127.0.0.1:9091\n")
		})
	}
}

func TestSandboxDateOutsideTheRecordings(t *testing.T) {
	tests := []struct {
		date, want string
	}{
		{date: "1990-01-01", want: "data.sandbox_date: sandbox: date outside the recorded data: 1990-01-01; the sandbox has recordings from 1998-01-02 to 2021-03-31"},
		{date: "2030-06-01", want: "date outside the recorded data: 2030-06-01"},
		{date: "2016-03-01"},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			_, err := Load(LoadOptions{LookupEnv: envOf(map[string]string{"HOME": t.TempDir(), "FFE_DATA_SANDBOX_DATE": tt.date})})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			var ce *Error
			require.ErrorAs(t, err, &ce)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestServerZeroIsDefault checks the rule of the package doc: in the
// server section a zero count or duration is accepted and means the
// default (the packages apply it), and Default spells out the packages'
// constants.
func TestServerZeroIsDefault(t *testing.T) {
	d := Default().Server
	require.Equal(t, server.DefaultAddr, d.Listen)
	require.Equal(t, server.DefaultAdminAddr, d.AdminListen)
	require.Equal(t, jobs.DefaultWorkers, d.Workers)
	require.Equal(t, jobs.DefaultCapacity, d.QueueCapacity)
	require.Equal(t, jobs.DefaultTimeout, d.JobTimeout)
	require.Equal(t, jobs.DefaultMaxAttempts, d.MaxAttempts)
	require.Equal(t, server.DefaultShutdownTimeout, d.ShutdownGrace)
	require.Equal(t, crew.DefaultMemoryEntries, d.Crew.Memory.Entries)
	require.Equal(t, crew.DefaultMemoryAge, d.Crew.Memory.MaxAge)
	require.Equal(t, monitor.DefaultInterval, d.Monitor.Interval)
	require.Equal(t, monitor.DefaultThreshold, d.Monitor.Threshold)

	file := writeFile(t, "config.yaml", `
server:
  workers: 0
  queue_capacity: 0
  max_attempts: 0
  job_timeout: 0s
  shutdown_grace: 0s
  retention: {keep_exports: -1, export_max_age: -1s}
  crew:
    memory: {enabled: true, entries: 0, max_age: 0s}
  monitor: {interval: 0s, threshold: 0}
`, 0o644)
	cfg, err := Load(LoadOptions{Path: file, DataDir: t.TempDir(), LookupEnv: envOf(map[string]string{"HOME": t.TempDir()})})
	require.NoError(t, err)
	require.Zero(t, cfg.Server.Workers)
	require.Equal(t, -1, cfg.Server.Retention.KeepExports)
}

// TestMemoryRetention checks memory.retention under the zero rule: left
// out it is DefaultMemoryRetention, and -1s (keep every trade) loads.
func TestMemoryRetention(t *testing.T) {
	require.Equal(t, DefaultMemoryRetention, Default().Memory.Retention)
	for _, c := range []struct {
		name, body string
		want       time.Duration
	}{
		{name: "left out", body: "memory: {keep: 5}\n", want: DefaultMemoryRetention},
		{name: "keep everything", body: "memory: {retention: -1s}\n", want: -time.Second},
		{name: "a month", body: "memory: {retention: 720h}\n", want: 720 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := writeFile(t, "config.yaml", c.body, 0o644)
			cfg, err := Load(LoadOptions{Path: file, DataDir: t.TempDir(), LookupEnv: envOf(map[string]string{"HOME": t.TempDir()})})
			require.NoError(t, err)
			require.Equal(t, c.want, cfg.Memory.Retention)
		})
	}
}
