// Package config loads the configuration of ffe, the finance feedback
// engine: a YAML file, FFE_* environment overrides and secrets read only from
// the environment or from files readable by their owner alone.
//
// # Sources, in order of precedence
//
//  1. Command-line flags applied by the caller (LoadOptions.DataDir).
//  2. Environment variables: every setting has one, named FFE_ followed by
//     its YAML path in upper case with dots as underscores
//     (risk.max_position_share is FFE_RISK_MAX_POSITION_SHARE,
//     providers.polygon.base_url is FFE_PROVIDERS_POLYGON_BASE_URL). Lists
//     are comma-separated.
//  3. The YAML file (LoadOptions.Path, else FFE_CONFIG, else
//     config.yaml under the user's config directory). A missing default file
//     is not an error: the defaults apply. Unknown keys are an error naming
//     the key and its line.
//  4. Defaults (Default): the sandbox data source (recorded market data, no
//     keys, no network), paper trading and a SQLite database under the
//     user's data directory.
//
// # Secrets
//
// API keys, tokens and private keys never come from the YAML body. Each
// secret has an environment variable (FFE_ALPHAVANTAGE_API_KEY,
// FFE_COINBASE_PRIVATE_KEY, FFE_OANDA_TOKEN, …, see SecretSpecs), a
// companion variable with a _FILE suffix naming a file, and a
// providers.<name>.<secret>_file entry in the YAML file. The API token of
// `ffe serve` is one too: FFE_SERVER_TOKEN, FFE_SERVER_TOKEN_FILE or
// server.token_file. A secret file must not be readable or writable by
// group or others (mode 0600 or 0400). Secrets are printed as REDACTED by
// WriteYAML and appear in no error.
//
// # Extending
//
// New sections are new fields of Config with a yaml tag; they get strict
// decoding, environment overrides and `config show` output without further
// code. The server section is where `ffe serve` keeps its settings
// (listeners, export directory, job queue, retention, crew, monitor and
// shutdown grace); its export_dir defaults to exports under data_dir.
//
// # Defaults and zero
//
// Every default is written once, as an exported constant of the package
// that uses it (jobs.DefaultWorkers, monitor.DefaultInterval,
// service.DefaultKeepExports, …); Default and the flags' help refer to
// those constants. In the server section and the packages behind it, a
// zero count or duration means that default, the same as leaving the key
// out. Turning something off is spelled explicitly: enabled: false for
// the stock monitor and the crew memory, a negative value (-1, -1s) for a
// retention bound. A retention bound of 0, which turned the bound off in
// earlier versions, is an error naming -1, so no file silently changes
// meaning. memory.retention follows the same rule: left out it is
// DefaultMemoryRetention, -1s keeps every trade, and 0, which used to keep
// every trade, is an error naming -1s.
//
// # What it owns and imports
//
// The package owns the Config type, its loading, validation and
// secrets. It imports the providers and their registry for names and the
// packages of engine whose defaults it shows (jobs, crew, monitor,
// service, server); none of them imports it.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/engine/monitor"
	"github.com/leakgate/leakgate/engine/server"
	"github.com/leakgate/leakgate/engine/service"
	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/registry"
	"github.com/leakgate/leakgate/providers/sandbox"
)

// Data sources.
const (
	// SourceSandbox serves recorded market data in-process: no network, no
	// keys.
	SourceSandbox = "sandbox"
	// SourceLive talks to the upstream APIs (or to the URLs the config
	// points them at).
	SourceLive = "live"
)

// Trading platforms: paper, or a provider that trades.
const (
	PlatformPaper    = "paper"
	PlatformCoinbase = registry.Coinbase
	PlatformOANDA    = registry.OANDA
)

// Provider names, as used in providers:, routing: and the environment
// (the registry's).
const (
	AlphaVantage = registry.AlphaVantage
	Polygon      = registry.Polygon
	Finnhub      = registry.Finnhub
	Coinbase     = registry.Coinbase
	OANDA        = registry.OANDA
	Yahoo        = registry.Yahoo
	Reddit       = registry.Reddit
	LLM          = registry.LLM
)

// ProviderNames lists every provider the configuration knows, in a stable
// order: the registry's.
var ProviderNames = registry.Names()

// Config is the effective configuration of ffe. The zero value is not
// useful; start from Default or Load.
type Config struct {
	// DataDir holds the SQLite database. Default: $XDG_DATA_HOME/ffe or
	// ~/.local/share/ffe.
	DataDir string `yaml:"data_dir"`
	// Data selects where market data comes from.
	Data Data `yaml:"data"`
	// Providers holds per-provider settings, keyed by provider name.
	Providers map[string]Provider `yaml:"providers"`
	// Routing lists, per asset class, the providers to ask in order; later
	// ones are fallbacks.
	Routing map[providers.AssetClass][]string `yaml:"routing"`
	// Platform selects where orders go.
	Platform Platform `yaml:"platform"`
	// Risk bounds position sizes and losses.
	Risk Risk `yaml:"risk"`
	// Fees are charged on paper fills and in backtests.
	Fees Fees `yaml:"fees"`
	// Watchlist is the set of symbols run-agent cycles over.
	Watchlist []string `yaml:"watchlist"`
	// Agent configures run-agent.
	Agent Agent `yaml:"agent"`
	// Sentiment configures the Reddit sentiment vote.
	Sentiment Sentiment `yaml:"sentiment"`
	// Memory configures retention of closed-trade memory.
	Memory Memory `yaml:"memory"`
	// Server configures `ffe serve`.
	Server Server `yaml:"server"`
	// Log configures logging.
	Log Log `yaml:"log"`

	// File is the configuration file that was read, or "" when none was.
	File string `yaml:"-"`

	secrets  map[string]string // "provider.name" → value
	warnings []string
}

// Warnings returns the problems Load found that do not stop it, one line
// each: FFE_* variables that name no setting, with the closest known name.
// They hold no values. Callers print or log them; the package does not.
func (c *Config) Warnings() []string { return append([]string(nil), c.warnings...) }

// Data selects the market-data source.
type Data struct {
	// Source is "sandbox" (default) or "live".
	Source string `yaml:"source"`
	// SandboxURL, when set, points every provider at <url>/<prefix> of a
	// sandbox server (for example a loopback one), in either mode; missing
	// credentials then default to the sandbox's key.
	SandboxURL string `yaml:"sandbox_url"`
	// SandboxDate, in sandbox mode, replays the recorded data as of that
	// day (2006-01-02): bars end there and quotes are its closes. Empty
	// serves everything recorded.
	SandboxDate string `yaml:"sandbox_date"`
	// Interval is the bar width analyze and backtest ask for.
	Interval string `yaml:"interval"`
	// HistoryBars is how many bars analyze reads (the latest ones).
	HistoryBars int `yaml:"history_bars"`
	// BarsTTL and QuoteTTL bound how long answers are cached.
	BarsTTL  time.Duration `yaml:"bars_ttl"`
	QuoteTTL time.Duration `yaml:"quote_ttl"`
}

// Provider is the configuration of one upstream API.
type Provider struct {
	// Enabled turns the provider on or off. Unset means on in sandbox mode
	// and, in live mode, on when its credentials are available.
	Enabled *bool `yaml:"enabled,omitempty"`
	// BaseURL overrides the API's address.
	BaseURL string `yaml:"base_url,omitempty"`
	// ExchangeURL overrides Coinbase's Exchange (market data) API, which
	// is separate from its Advanced Trade API at BaseURL.
	ExchangeURL string `yaml:"exchange_url,omitempty"`
	// AuthURL overrides the OAuth token endpoint's host (Reddit's
	// www.reddit.com, separate from the API at BaseURL).
	AuthURL string `yaml:"auth_url,omitempty"`
	// RateLimit is the request rate allowed, per second; 0 keeps the
	// provider's documented default. Burst is the bucket size, used only
	// with a RateLimit; 0 means 1.
	RateLimit float64 `yaml:"rate_limit,omitempty"`
	Burst     int     `yaml:"burst,omitempty"`
	// Timeout bounds one request; 0 keeps the default.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// AccountID is the trading account (OANDA).
	AccountID string `yaml:"account_id,omitempty"`
	// Live selects OANDA's fxTrade (real money) API instead of the
	// practice one when BaseURL is empty.
	Live bool `yaml:"live,omitempty"`
	// UserAgent is sent with requests (Reddit requires a descriptive one).
	UserAgent string `yaml:"user_agent,omitempty"`
	// Model names the model to ask (LLM).
	Model string `yaml:"model,omitempty"`

	// Secret files: each names a file holding one secret, mode 0600. Only
	// the secrets a provider takes are accepted (see SecretSpecs).
	APIKeyFile       string `yaml:"api_key_file,omitempty"`
	KeyNameFile      string `yaml:"key_name_file,omitempty"`
	PrivateKeyFile   string `yaml:"private_key_file,omitempty"`
	TokenFile        string `yaml:"token_file,omitempty"`
	ClientIDFile     string `yaml:"client_id_file,omitempty"`
	ClientSecretFile string `yaml:"client_secret_file,omitempty"`
}

// URL returns the base URL override named by setting (a
// registry.Endpoint.Setting: base_url, exchange_url or auth_url), or ""
// when none is set.
func (p Provider) URL(setting string) string {
	switch setting {
	case registry.BaseURL:
		return p.BaseURL
	case registry.ExchangeURL:
		return p.ExchangeURL
	case registry.AuthURL:
		return p.AuthURL
	}
	return ""
}

// IsEnabled reports the explicit setting of Enabled and whether there is
// one.
func (p Provider) IsEnabled() (on, set bool) {
	if p.Enabled == nil {
		return false, false
	}
	return *p.Enabled, true
}

// Platform selects the trading venue.
type Platform struct {
	// Name is "paper" (default), "coinbase" or "oanda".
	Name string `yaml:"name"`
	// StartingCash is the paper account's initial balance.
	StartingCash float64 `yaml:"starting_cash"`
	// Currency is the paper account's currency.
	Currency string `yaml:"currency"`
}

// Risk bounds what execute and run-agent may do.
type Risk struct {
	// MaxPositionShare is the largest share of equity one position may
	// reach, in (0, 1].
	MaxPositionShare float64 `yaml:"max_position_share"`
	// MaxDailyLoss is the share of equity that may be lost (realised) in
	// one UTC day before new buys are refused, in (0, 1].
	MaxDailyLoss float64 `yaml:"max_daily_loss"`
	// RiskPerTrade is the share of equity at risk between entry and stop.
	RiskPerTrade float64 `yaml:"risk_per_trade"`
	// ATRStopMultiple places the stop this many ATRs from the entry.
	ATRStopMultiple float64 `yaml:"atr_stop_multiple"`
	// RewardRisk places the take-profit this many stop distances away.
	RewardRisk float64 `yaml:"reward_risk"`
}

// Fees are trading costs in basis points of the notional.
type Fees struct {
	// FeeBps is charged per fill; SlippageBps moves fill prices against
	// the order.
	FeeBps      float64 `yaml:"fee_bps"`
	SlippageBps float64 `yaml:"slippage_bps"`
}

// Agent configures run-agent.
type Agent struct {
	// Interval is the time between cycles.
	Interval time.Duration `yaml:"interval"`
	// MaxCycles stops the loop after so many cycles; 0 runs until
	// interrupted.
	MaxCycles int `yaml:"max_cycles"`
	// ConfidenceThreshold is the confidence a BUY or SELL decision needs
	// to be executed, in [0, 1]. Zero is a threshold like any other: every
	// BUY and SELL is executed; it never stands for "the default".
	ConfidenceThreshold float64 `yaml:"confidence_threshold"`
}

// Sentiment configures the Reddit sentiment vote of analyze.
type Sentiment struct {
	// Enabled turns the vote on; Subreddits are searched for posts about
	// the symbol.
	Enabled    bool     `yaml:"enabled"`
	Subreddits []string `yaml:"subreddits"`
	// Limit is how many posts are read per subreddit.
	Limit int `yaml:"limit"`
}

// DefaultMemoryRetention is memory.retention when it is left out or 0:
// prune-memory without flags removes trades closed more than a year ago.
const DefaultMemoryRetention = 365 * 24 * time.Hour

// Memory configures retention of the closed-trade memory.
type Memory struct {
	// Retention is the default --older-than of prune-memory, by default
	// DefaultMemoryRetention; a negative value (-1s) keeps every trade
	// whatever its age. 0 used to keep everything, so Validate refuses it
	// and names -1s (prune-memory reads a 0 that reaches it as the
	// default).
	Retention time.Duration `yaml:"retention"`
	// Keep is the default --keep of prune-memory; 0 means no limit.
	Keep int `yaml:"keep"`
}

// AdminOff as Server.AdminListen turns the admin listener off.
const AdminOff = server.AdminOff

// Crew writers.
const (
	// WriterLocal is the deterministic crew writer: no network, no key.
	WriterLocal = "local"
	// WriterLLM writes the crew's texts with the OpenAI-compatible chat
	// endpoint of providers.llm (FFE_LLM_API_KEY; the sandbox's in
	// sandbox mode).
	WriterLLM = "llm"
)

// Server configures `ffe serve`: its listeners, API token, export
// directory, job queue, retention, analytics crew, stock monitor and
// shutdown. A zero count or duration is the default named in Default (the
// constants of the packages that use it); what can be turned off is turned
// off explicitly (see the package doc).
type Server struct {
	// Listen is the API's address, host:port (the --addr flag). Without a
	// token the server listens on loopback only.
	Listen string `yaml:"listen"`
	// AdminListen is the address of /metrics and /debug/pprof, host:port
	// or "off" (the --admin-addr flag). It must be a loopback address
	// unless AdminPublic is set.
	AdminListen string `yaml:"admin_listen"`
	AdminPublic bool   `yaml:"admin_public"`
	// TokenFile names a file (mode 0600) holding the API bearer token;
	// FFE_SERVER_TOKEN, then FFE_SERVER_TOKEN_FILE, win over it. The token
	// itself is never read from the YAML body. Without any, the server
	// generates one per run and prints it once.
	TokenFile string `yaml:"token_file,omitempty"`
	// ExportDir holds the export bundles. Default: exports under
	// data_dir.
	ExportDir string `yaml:"export_dir"`
	// Workers is how many export jobs run at once; QueueCapacity how many
	// may wait; JobTimeout bounds one job's run; MaxAttempts is how many
	// starts an interrupted job gets before it fails.
	Workers       int           `yaml:"workers"`
	QueueCapacity int           `yaml:"queue_capacity"`
	JobTimeout    time.Duration `yaml:"job_timeout"`
	MaxAttempts   int           `yaml:"max_attempts"`
	// ShutdownGrace bounds a graceful shutdown (SIGINT, SIGTERM): running
	// jobs get this long to finish, then they are interrupted and stay
	// queued, with the jobs not yet started, for the next start.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Retention bounds the exports and finished jobs kept.
	Retention Retention `yaml:"retention"`
	// Crew configures the analytics crew of export jobs.
	Crew Crew `yaml:"crew"`
	// Monitor configures the stock monitor of the watchlist.
	Monitor Monitor `yaml:"monitor"`
}

// Retention bounds what `ffe serve` keeps. A negative bound (-1, -1s)
// turns it off. 0 is refused: it used to turn a bound off, and zero now
// means the default everywhere.
type Retention struct {
	// KeepExports is the most export bundles kept; ExportMaxAge the
	// oldest.
	KeepExports  int           `yaml:"keep_exports"`
	ExportMaxAge time.Duration `yaml:"export_max_age"`
	// KeepJobs is the most finished jobs kept; JobMaxAge the oldest.
	KeepJobs  int           `yaml:"keep_jobs"`
	JobMaxAge time.Duration `yaml:"job_max_age"`
}

// Crew configures the analytics crew of export jobs.
type Crew struct {
	// ByDefault runs the crew for triggers that do not say; a trigger's
	// "crew" field wins.
	ByDefault bool `yaml:"by_default"`
	// Writer is "local" (default, deterministic) or "llm".
	Writer string `yaml:"writer"`
	// Memory lets later runs see what earlier ones concluded.
	Memory CrewMemory `yaml:"memory"`
}

// CrewMemory is the crew's bounded memory.
type CrewMemory struct {
	// Enabled turns the memory on; it then keeps at most Entries
	// conclusions, none older than MaxAge.
	Enabled bool          `yaml:"enabled"`
	Entries int           `yaml:"entries"`
	MaxAge  time.Duration `yaml:"max_age"`
}

// Monitor configures the stock monitor of `ffe serve`, which polls the
// watchlist's quotes and records an alert when a price moves by Threshold
// (0.02 is 2%) from its reference.
type Monitor struct {
	Enabled   bool          `yaml:"enabled"`
	Interval  time.Duration `yaml:"interval"`
	Threshold float64       `yaml:"threshold"`
}

// Log configures the engine's logger.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text (default) or json (the --log-format flag).
	Format string `yaml:"format"`
}

// Default returns the configuration that applies with no file and no
// environment, except for DataDir, which Load fills in.
func Default() *Config {
	ps := make(map[string]Provider, len(ProviderNames))
	for _, n := range ProviderNames {
		ps[n] = Provider{}
	}
	return &Config{
		Data: Data{
			Source:      SourceSandbox,
			Interval:    string(providers.Day),
			HistoryBars: 250,
			BarsTTL:     5 * time.Minute,
			QuoteTTL:    5 * time.Second,
		},
		Providers: ps,
		Routing: map[providers.AssetClass][]string{
			providers.Equity: {AlphaVantage, Polygon, Finnhub, Yahoo},
			providers.Crypto: {Coinbase, Polygon, AlphaVantage},
			providers.Forex:  {OANDA, AlphaVantage, Polygon},
		},
		Platform: Platform{Name: PlatformPaper, StartingCash: 100_000, Currency: "USD"},
		Risk: Risk{
			MaxPositionShare: 0.2,
			MaxDailyLoss:     0.05,
			RiskPerTrade:     0.01,
			ATRStopMultiple:  2,
			RewardRisk:       2,
		},
		Fees:      Fees{FeeBps: 10, SlippageBps: 5},
		Watchlist: []string{"AAPL", "SPY", "BTC-USD", "EUR_USD"},
		Agent:     Agent{Interval: 15 * time.Minute, ConfidenceThreshold: 0.6},
		Sentiment: Sentiment{Subreddits: []string{"wallstreetbets", "stocks"}, Limit: 50},
		Memory:    Memory{Retention: DefaultMemoryRetention},
		Server: Server{
			Listen:        server.DefaultAddr,
			AdminListen:   server.DefaultAdminAddr,
			Workers:       jobs.DefaultWorkers,
			QueueCapacity: jobs.DefaultCapacity,
			JobTimeout:    jobs.DefaultTimeout,
			MaxAttempts:   jobs.DefaultMaxAttempts,
			ShutdownGrace: server.DefaultShutdownTimeout,
			Retention: Retention{KeepExports: service.DefaultKeepExports, ExportMaxAge: service.DefaultExportMaxAge,
				KeepJobs: service.DefaultKeepJobs, JobMaxAge: service.DefaultJobMaxAge},
			Crew:    Crew{Writer: WriterLocal, Memory: CrewMemory{Entries: crew.DefaultMemoryEntries, MaxAge: crew.DefaultMemoryAge}},
			Monitor: Monitor{Enabled: true, Interval: monitor.DefaultInterval, Threshold: monitor.DefaultThreshold},
		},
		Log:     Log{Level: "warn", Format: "text"},
		secrets: map[string]string{},
	}
}

// Error is a configuration problem: an unreadable or invalid file, a bad
// environment variable or an invalid value. The message names the place
// (file and line, variable or key) and what to do.
type Error struct {
	// File is the configuration file, if the problem is in it.
	File string
	// Line is the 1-based line in File, or 0.
	Line int
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("config %s line %d: %v", e.File, e.Line, e.Err)
	case e.File != "":
		return fmt.Sprintf("config %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("config: %v", e.Err)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotFound is wrapped when an explicitly named config file does not
// exist.
var ErrNotFound = errors.New("config file not found")

// LoadOptions says where Load looks.
type LoadOptions struct {
	// Path is the file to read (the --config flag). Empty means FFE_CONFIG,
	// else DefaultPath; only an explicitly named file must exist.
	Path string
	// DataDir overrides every other source of data_dir (the --data-dir
	// flag).
	DataDir string
	// LookupEnv reads the environment; nil means os.LookupEnv. Tests pass
	// a map's lookup so the process environment does not leak in.
	LookupEnv func(string) (string, bool)
	// Environ lists the environment as KEY=value strings, to find FFE_*
	// variables that name no setting (see Config.Warnings). Nil means
	// os.Environ, of which only the variables LookupEnv also sees count.
	Environ func() []string
}

// Load builds the effective configuration: defaults, then the file, then
// the environment, then opts.DataDir; it reads the secrets and validates the
// result. Every error is an *Error.
func Load(opts LoadOptions) (*Config, error) {
	env := opts.LookupEnv
	if env == nil {
		env = os.LookupEnv
	}
	cfg := Default()
	path, explicit := opts.Path, opts.Path != ""
	if !explicit {
		if p, ok := env("FFE_CONFIG"); ok && p != "" {
			path, explicit = p, true
		}
	}
	if !explicit {
		p, err := DefaultPath(env)
		if err == nil {
			path = p
		}
	}
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := decode(cfg, path, data); err != nil {
				return nil, err
			}
			cfg.File = path
		case errors.Is(err, os.ErrNotExist) && !explicit:
			// No file: defaults.
		case errors.Is(err, os.ErrNotExist):
			return nil, &Error{File: path, Err: fmt.Errorf("%w: create it, or drop --config to run on the defaults", ErrNotFound)}
		default:
			return nil, &Error{File: path, Err: err}
		}
	}
	if err := applyEnv(cfg, env); err != nil {
		return nil, err
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ
	}
	cfg.warnings = unknownEnvWarnings(environ(), env)
	if opts.DataDir != "" {
		cfg.DataDir = opts.DataDir
	}
	if cfg.DataDir == "" {
		d, err := DefaultDataDir(env)
		if err != nil {
			return nil, &Error{Err: fmt.Errorf("data directory: %w; set --data-dir or FFE_DATA_DIR", err)}
		}
		cfg.DataDir = d
	}
	if cfg.Server.ExportDir == "" {
		cfg.Server.ExportDir = filepath.Join(cfg.DataDir, DefaultExportDirName)
	}
	if err := cfg.loadSecrets(env); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// DefaultPath returns config.yaml under the user's configuration directory
// ($XDG_CONFIG_HOME/ffe or ~/.config/ffe on Linux).
func DefaultPath(env func(string) (string, bool)) (string, error) {
	dir, err := userDir(env, "XDG_CONFIG_HOME", ".config", os.UserConfigDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "ffe", "config.yaml"), nil
}

// DefaultDataDir returns $XDG_DATA_HOME/ffe, else ~/.local/share/ffe (on
// macOS and Windows, ffe under the user's configuration directory).
func DefaultDataDir(env func(string) (string, bool)) (string, error) {
	dir, err := userDir(env, "XDG_DATA_HOME", filepath.Join(".local", "share"), os.UserConfigDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "ffe"), nil
}

func userDir(env func(string) (string, bool), xdg, homeRel string, fallback func() (string, error)) (string, error) {
	if env == nil {
		env = os.LookupEnv
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios" || runtime.GOOS == "plan9" {
		return fallback()
	}
	if d, ok := env(xdg); ok && filepath.IsAbs(d) {
		return d, nil
	}
	home, ok := env("HOME")
	if !ok || home == "" {
		return "", errors.New("neither $" + xdg + " nor $HOME is set")
	}
	return filepath.Join(home, homeRel), nil
}

// DefaultExportDirName is the directory under data_dir that holds export
// bundles when server.export_dir is empty.
const DefaultExportDirName = "exports"

// ServerExportDir returns server.export_dir, or exports under data_dir
// when it is empty.
func (c *Config) ServerExportDir() string {
	if c.Server.ExportDir != "" {
		return c.Server.ExportDir
	}
	return filepath.Join(c.DataDir, DefaultExportDirName)
}

// ServerToken returns the API token of `ffe serve` (FFE_SERVER_TOKEN,
// FFE_SERVER_TOKEN_FILE or server.token_file), or "" when none is
// configured.
func (c *Config) ServerToken() string { return c.Secret(ServerSection, "token") }

// Secret returns the secret name of provider (for example
// Secret("oanda", "token")), or "" when it is not configured.
func (c *Config) Secret(provider, name string) string {
	return c.secrets[provider+"."+name]
}

// SetSecret sets a secret, for programs that obtain it elsewhere (a
// keychain) and for tests. An empty value removes it.
func (c *Config) SetSecret(provider, name, value string) {
	if c.secrets == nil {
		c.secrets = map[string]string{}
	}
	if value == "" {
		delete(c.secrets, provider+"."+name)
		return
	}
	c.secrets[provider+"."+name] = value
}

// SecretValues returns every configured secret value, for registering with
// redactors.
func (c *Config) SecretValues() []string {
	out := make([]string, 0, len(c.secrets))
	for _, v := range c.secrets {
		out = append(out, v)
	}
	return out
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	d := *c
	d.Providers = make(map[string]Provider, len(c.Providers))
	for k, v := range c.Providers {
		if v.Enabled != nil {
			b := *v.Enabled
			v.Enabled = &b
		}
		d.Providers[k] = v
	}
	d.Routing = make(map[providers.AssetClass][]string, len(c.Routing))
	for k, v := range c.Routing {
		d.Routing[k] = append([]string(nil), v...)
	}
	d.Watchlist = append([]string(nil), c.Watchlist...)
	d.Sentiment.Subreddits = append([]string(nil), c.Sentiment.Subreddits...)
	d.warnings = slices.Clone(c.warnings)
	d.secrets = make(map[string]string, len(c.secrets))
	for k, v := range c.secrets {
		d.secrets[k] = v
	}
	return &d
}

// Validate checks every setting and returns an *Error naming the first bad
// one and its valid values. A number that is NaN or infinite is refused
// whatever its setting, as it is when read from the file or environment.
// The sections are checked in the order of Config's fields.
func (c *Config) Validate() error {
	if key, v, ok := firstNonFinite(reflect.ValueOf(c).Elem(), ""); ok {
		return &Error{File: c.File, Err: fmt.Errorf("%s %v: %s", key, v, finiteHint)}
	}
	for _, check := range []func() error{
		c.Data.validate,
		c.validateProviders,
		c.validateRouting,
		c.Platform.validate,
		c.Risk.validate,
		c.Fees.validate,
		c.validateWatchlist,
		c.Agent.validate,
		c.Sentiment.validate,
		c.Memory.validate,
		c.Server.validate,
		c.Log.validate,
	} {
		if err := check(); err != nil {
			return &Error{File: c.File, Err: err}
		}
	}
	return nil
}

// validate checks the data section.
func (d Data) validate() error {
	switch d.Source {
	case SourceSandbox, SourceLive:
	default:
		return fmt.Errorf("data.source %q: use %q or %q", d.Source, SourceSandbox, SourceLive)
	}
	if d.SandboxURL != "" {
		if err := checkURL(d.SandboxURL); err != nil {
			return fmt.Errorf("data.sandbox_url: %v", err)
		}
	}
	if d.SandboxDate != "" {
		day, err := time.Parse(time.DateOnly, d.SandboxDate)
		if err != nil {
			return fmt.Errorf("data.sandbox_date %q: use a date such as 2017-06-01", d.SandboxDate)
		}
		if err := sandbox.CheckDate(day); err != nil {
			return fmt.Errorf("data.sandbox_date: %v", err)
		}
	}
	if _, err := providers.ParseInterval(d.Interval); err != nil {
		return fmt.Errorf("data.interval: %v", err)
	}
	if d.HistoryBars < 60 || d.HistoryBars > 10_000 {
		return fmt.Errorf("data.history_bars %d: use 60 to 10000 so indicators have enough bars", d.HistoryBars)
	}
	if d.BarsTTL < 0 || d.QuoteTTL < 0 {
		return errors.New("data.bars_ttl and data.quote_ttl must not be negative")
	}
	return nil
}

// validateProviders checks the providers section against the registry.
func (c *Config) validateProviders() error {
	for name, p := range c.Providers {
		spec, ok := registry.Lookup(name)
		if !ok {
			return fmt.Errorf("providers.%s: unknown provider; use one of %s", name, strings.Join(ProviderNames, ", "))
		}
		for _, u := range []struct{ key, v string }{{"base_url", p.BaseURL}, {"exchange_url", p.ExchangeURL}, {"auth_url", p.AuthURL}} {
			if u.v != "" {
				if err := checkURL(u.v); err != nil {
					return fmt.Errorf("providers.%s.%s: %v", name, u.key, err)
				}
			}
		}
		if p.RateLimit < 0 || p.Burst < 0 || p.Timeout < 0 {
			return fmt.Errorf("providers.%s: rate_limit, burst and timeout must not be negative", name)
		}
		for _, f := range secretFileFields(p) {
			if _, takes := spec.Secret(f.secret); f.path != "" && !takes {
				return fmt.Errorf("providers.%s.%s_file: %s takes no %s", name, f.secret, name, f.secret)
			}
		}
	}
	return nil
}

// validateRouting checks that every route lists market-data providers.
func (c *Config) validateRouting() error {
	for class, list := range c.Routing {
		if !class.Valid() {
			return fmt.Errorf("routing.%s: unknown asset class; use equity, crypto or forex", class)
		}
		for _, n := range list {
			if spec, ok := registry.Lookup(n); !ok || !spec.MarketData() {
				return fmt.Errorf("routing.%s: %q is not a market-data provider; use %s", class, n, strings.Join(registry.MarketDataNames(), ", "))
			}
		}
	}
	return nil
}

// validate checks the platform section.
func (p Platform) validate() error {
	switch p.Name {
	case PlatformPaper, PlatformCoinbase, PlatformOANDA:
	default:
		return fmt.Errorf("platform.name %q: use %s, %s or %s", p.Name, PlatformPaper, PlatformCoinbase, PlatformOANDA)
	}
	if !(p.StartingCash > 0) {
		return fmt.Errorf("platform.starting_cash %v: use an amount above 0", p.StartingCash)
	}
	if len(p.Currency) != 3 {
		return fmt.Errorf("platform.currency %q: use a three-letter currency code such as USD", p.Currency)
	}
	return nil
}

// validate checks the risk section.
func (r Risk) validate() error {
	switch {
	case !(r.MaxPositionShare > 0 && r.MaxPositionShare <= 1):
		return fmt.Errorf("risk.max_position_share %v: use a fraction in (0, 1], e.g. 0.2", r.MaxPositionShare)
	case !(r.MaxDailyLoss > 0 && r.MaxDailyLoss <= 1):
		return fmt.Errorf("risk.max_daily_loss %v: use a fraction in (0, 1], e.g. 0.05", r.MaxDailyLoss)
	case !(r.RiskPerTrade > 0 && r.RiskPerTrade <= 0.2):
		return fmt.Errorf("risk.risk_per_trade %v: use a fraction in (0, 0.2], e.g. 0.01", r.RiskPerTrade)
	case !(r.ATRStopMultiple > 0):
		return fmt.Errorf("risk.atr_stop_multiple %v: use a multiple above 0, e.g. 2", r.ATRStopMultiple)
	case !(r.RewardRisk > 0):
		return fmt.Errorf("risk.reward_risk %v: use a ratio above 0, e.g. 2", r.RewardRisk)
	}
	return nil
}

// validate checks the fees section.
func (f Fees) validate() error {
	if f.FeeBps < 0 || f.SlippageBps < 0 || f.FeeBps > 1000 || f.SlippageBps > 1000 {
		return errors.New("fees: fee_bps and slippage_bps must be in [0, 1000]")
	}
	return nil
}

// validateWatchlist checks that every watchlist entry is a symbol.
func (c *Config) validateWatchlist() error {
	for i, s := range c.Watchlist {
		if _, _, err := providers.NormalizeSymbol(s); err != nil {
			return fmt.Errorf("watchlist[%d]: %v", i, err)
		}
	}
	return nil
}

// validate checks the agent section.
func (a Agent) validate() error {
	if a.Interval <= 0 {
		return fmt.Errorf("agent.interval %s: use a positive duration such as 15m", a.Interval)
	}
	if a.MaxCycles < 0 {
		return fmt.Errorf("agent.max_cycles %d: use 0 (until interrupted) or more", a.MaxCycles)
	}
	if a.ConfidenceThreshold < 0 || a.ConfidenceThreshold > 1 {
		return fmt.Errorf("agent.confidence_threshold %v: use a value in [0, 1]", a.ConfidenceThreshold)
	}
	return nil
}

// validate checks the sentiment section.
func (s Sentiment) validate() error {
	if s.Enabled && len(s.Subreddits) == 0 {
		return errors.New("sentiment.subreddits is empty: list at least one subreddit, or disable sentiment")
	}
	if s.Limit < 1 || s.Limit > 1000 {
		return fmt.Errorf("sentiment.limit %d: use 1 to 1000", s.Limit)
	}
	return nil
}

// validate checks the memory section. A retention of 0 used to keep
// every trade; it now means the default, so that spelling is refused and
// the error names the new one (-1s), rather than prune-memory silently
// starting to remove a year-old trade.
func (m Memory) validate() error {
	if m.Retention == 0 {
		return fmt.Errorf("memory.retention 0: 0 no longer keeps every trade; write -1s to keep them whatever their age, "+
			"or leave the key out for the default (%s)", DefaultMemoryRetention)
	}
	if m.Keep < 0 {
		return fmt.Errorf("memory.keep %d: use 0 (no limit) or more", m.Keep)
	}
	return nil
}

// validate checks the log section.
func (l Log) validate() error {
	switch strings.ToLower(l.Level) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: use debug, info, warn or error", l.Level)
	}
	switch strings.ToLower(l.Format) {
	case "", "text", "json":
	default:
		return fmt.Errorf("log.format %q: use text or json (the --log-format flag, FFE_LOG_FORMAT)", l.Format)
	}
	return nil
}

// validate checks the server section; errors name the key and its valid
// values. A zero count or duration is the default; a retention bound is
// turned off by a negative value, and 0 there, which used to turn it off,
// is refused with the new spelling.
func (s Server) validate() error {
	if err := CheckListenAddr(s.Listen); err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	if s.AdminListen != AdminOff {
		if err := CheckListenAddr(s.AdminListen); err != nil {
			return fmt.Errorf("server.admin_listen: %w, or %q to turn it off", err, AdminOff)
		}
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"workers", s.Workers}, {"queue_capacity", s.QueueCapacity}, {"max_attempts", s.MaxAttempts}} {
		if f.v < 0 || f.v > 100_000 {
			return fmt.Errorf("server.%s %d: use 1 or more (0 is the default)", f.key, f.v)
		}
	}
	for _, f := range []struct {
		key string
		v   time.Duration
	}{{"job_timeout", s.JobTimeout}, {"shutdown_grace", s.ShutdownGrace}} {
		if f.v < 0 {
			return fmt.Errorf("server.%s %s: use a positive duration such as 30s (0 is the default)", f.key, f.v)
		}
	}
	if err := s.Retention.validate(); err != nil {
		return err
	}
	switch s.Crew.Writer {
	case WriterLocal, WriterLLM:
	default:
		return fmt.Errorf("server.crew.writer %q: use %s or %s", s.Crew.Writer, WriterLocal, WriterLLM)
	}
	if m := s.Crew.Memory; m.Entries < 0 || m.MaxAge < 0 {
		return fmt.Errorf("server.crew.memory: entries %d and max_age %s must not be negative (e.g. 64 and 24h; 0 is the default); "+
			"turn the memory off with enabled: false", m.Entries, m.MaxAge)
	}
	if m := s.Monitor; m.Interval < 0 || !(m.Threshold >= 0 && m.Threshold < 1) {
		return fmt.Errorf("server.monitor: interval %s must not be negative and threshold %v must be in [0, 1), e.g. 1m and 0.02 "+
			"(0 is the default); turn the monitor off with enabled: false", m.Interval, m.Threshold)
	}
	return nil
}

// validate checks the retention bounds. 0 used to turn a bound off; it
// now means the default, so that spelling is refused and the error names
// the new one (-1), rather than a file's meaning changing silently.
func (r Retention) validate() error {
	for _, f := range []struct {
		key, off string
		zero     bool
		def      any
	}{
		{"keep_exports", "-1", r.KeepExports == 0, service.DefaultKeepExports},
		{"export_max_age", "-1s", r.ExportMaxAge == 0, service.DefaultExportMaxAge},
		{"keep_jobs", "-1", r.KeepJobs == 0, service.DefaultKeepJobs},
		{"job_max_age", "-1s", r.JobMaxAge == 0, service.DefaultJobMaxAge},
	} {
		if f.zero {
			return fmt.Errorf("server.retention.%s 0: 0 no longer turns the bound off; write %s to turn it off, "+
				"or leave the key out for the default (%v)", f.key, f.off, f.def)
		}
	}
	return nil
}

// CheckListenAddr checks that addr is host:port with a port from 0 to
// 65535 (0 picks a free one). An empty host means every interface.
func CheckListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port; use e.g. 127.0.0.1:8740", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q: bad host %q; use e.g. 127.0.0.1:8740", addr, host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q must be a number from 0 to 65535; use e.g. 127.0.0.1:8740", addr, port)
	}
	return nil
}

func checkURL(s string) error {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return fmt.Errorf("%q: use an http:// or https:// URL", s)
	}
	return nil
}
