package cli

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/leakgate/leakgate/engine"
	"github.com/leakgate/leakgate/engine/config"
	"github.com/leakgate/leakgate/engine/server"
	"github.com/leakgate/leakgate/providers"
)

// ServingPrefix starts the line serve prints on stdout once its API
// listener is bound: ServingPrefix + "http://127.0.0.1:8740". Tests and
// the leak harness read the address from it (useful with port 0).
const ServingPrefix = "ffe: serving on "

// AdminPrefix starts the line serve prints on stdout with the admin
// listener's address, when it is on.
const AdminPrefix = "ffe: admin on "

func (a *app) serveCmd() *cobra.Command {
	var addr, adminAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the export API: download-tracker jobs, export bundles, the stock monitor, metrics",
		Long: fmt.Sprintf(`serve runs the export API over the engine until SIGINT or SIGTERM:

  POST   /api/jobs/download-tracker/trigger  queue an export job (JSON: symbols, range,
                                             interval, formats, crew; all optional)
  GET    /api/jobs/{id}, GET /api/jobs       job status and progress
  DELETE /api/jobs/{id}                      cancel a job
  GET    /api/exports/{id}                   the bundle's manifest, with SHA-256 per file
  GET    /api/exports/{id}/files/{name}      download a file
  DELETE /api/exports/{id}                   delete a bundle
  GET    /healthz, /readyz                   liveness and readiness, no token

Every /api/ request needs "Authorization: Bearer TOKEN". The token comes from %s,
%s_FILE or server.token_file (mode 0600); without one, serve generates a token
for this run and prints it once on stderr, and listens on loopback only.

The admin listener (--admin-addr, default %s) serves Prometheus metrics on
/metrics and pprof on /debug/pprof/, on loopback unless server.admin_public is set.
The stock monitor polls the watchlist's quotes and records alerts (server.monitor).
Settings: the server section of the configuration (ffe config show).

Once listening, serve prints on stdout:
  %shttp://HOST:PORT
  %shttp://HOST:PORT
On SIGINT or SIGTERM it stops accepting requests, lets running jobs finish up to
server.shutdown_grace (default %s; the rest stay queued for the next start), closes
everything and exits 0. A second signal ends the process at once.

In the server section a count or duration of 0 means its default; a retention bound
is turned off with -1 (-1s for an age).

Exit status: 0 after a graceful shutdown, 1 on failure (such as an address in use),
2 on a usage error (bad --addr, a non-loopback address without a token, an unknown
--log-format, an invalid configuration).`, server.TokenEnv, server.TokenEnv, server.DefaultAdminAddr, ServingPrefix, AdminPrefix,
			server.DefaultShutdownTimeout),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd, addr, adminAddr) },
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "", "API address, host:port; port 0 picks a free one (default: server.listen, "+server.DefaultAddr+")")
	f.StringVar(&adminAddr, "admin-addr", "", "metrics and pprof address, host:port or "+server.AdminOff+
		" (default: server.admin_listen, "+server.DefaultAdminAddr+")")
	return cmd
}

// serve checks the flags, binds the listeners, then runs the server over
// the engine until the command's context ends.
func (a *app) serve(cmd *cobra.Command, addr, adminAddr string) (err error) {
	if cmd.Flags().Changed("addr") {
		if err := config.CheckListenAddr(addr); err != nil {
			return usageErr(cmd, "--addr: %v", err)
		}
	}
	if cmd.Flags().Changed("admin-addr") && adminAddr != server.AdminOff {
		if err := config.CheckListenAddr(adminAddr); err != nil {
			return usageErr(cmd, "--admin-addr: %v, or %s to turn the admin listener off", err, server.AdminOff)
		}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("addr") {
		cfg.Server.Listen = addr
	}
	if cmd.Flags().Changed("admin-addr") {
		cfg.Server.AdminListen = adminAddr
	}

	// Bind before building anything: address problems are reported at
	// once, and the bound addresses (port 0) can be printed.
	api, admin, err := a.listen(cmd, cfg)
	if err != nil {
		return err
	}
	handed := false
	defer func() {
		if !handed {
			api.Close()
			if admin != nil {
				admin.Close()
			}
		}
	}()

	// The metrics exist before the engine so that its provider clients
	// count their requests in them.
	m := server.NewMetrics()
	obs := engine.WithProviderOptions(providers.WithObserver(m.ObserveProviderRequest))
	return a.withEngineConfig(cmd, cfg, []engine.Option{obs}, func(ctx context.Context, e *engine.Engine) (err error) {
		// The engine owns the service and closes it before its providers
		// and store; the server goes first of all.
		svc, err := e.NewService(m.ObserveJob)
		if err != nil {
			return err
		}
		srv, err := server.New(serverConfig(cfg), svc, server.Deps{Metrics: m, Logger: e.Logger()},
			server.WithTokenOutput(a.stderr), server.WithGetenv(a.getenv))
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, srv.Close()) }()
		fmt.Fprintf(a.stdout, "%shttp://%s\n", ServingPrefix, api.Addr())
		if admin != nil {
			fmt.Fprintf(a.stdout, "%shttp://%s (metrics /metrics, pprof /debug/pprof/)\n", AdminPrefix, admin.Addr())
		}
		handed = true
		return srv.ServeListeners(ctx, api, admin)
	})
}

// listen binds the API listener and, unless it is off, the admin one. A
// listener beyond loopback needs a configured token (API) or
// server.admin_public (admin): refusing it is a usage error.
func (a *app) listen(cmd *cobra.Command, cfg *config.Config) (api, admin net.Listener, err error) {
	s := cfg.Server
	api, err = net.Listen("tcp", s.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("API listener: %w; choose another address with --addr or server.listen", err)
	}
	if cfg.ServerToken() == "" && !server.IsLoopback(api.Addr()) {
		api.Close()
		return nil, nil, usageErr(cmd, "refusing to serve the API on %s without a token: set %s (or %s_FILE, or server.token_file "+
			"with mode 0600), or listen on loopback such as --addr %s", s.Listen, server.TokenEnv, server.TokenEnv, server.DefaultAddr)
	}
	if s.AdminListen == config.AdminOff {
		return api, nil, nil
	}
	admin, err = net.Listen("tcp", s.AdminListen)
	if err != nil {
		api.Close()
		return nil, nil, fmt.Errorf("admin listener: %w; choose another address with --admin-addr or server.admin_listen, or %s",
			err, server.AdminOff)
	}
	if !s.AdminPublic && !server.IsLoopback(admin.Addr()) {
		api.Close()
		admin.Close()
		return nil, nil, usageErr(cmd, "refusing to serve metrics and pprof on %s: use a loopback address such as --admin-addr %s, "+
			"--admin-addr %s, or set server.admin_public", s.AdminListen, server.DefaultAdminAddr, server.AdminOff)
	}
	return api, admin, nil
}

// serverConfig maps the server section's listeners, token and shutdown
// grace onto server.Config; the rest of the section configures the
// service (engine.Engine.NewService).
func serverConfig(cfg *config.Config) server.Config {
	s := cfg.Server
	return server.Config{
		Addr:            s.Listen,
		AdminAddr:       s.AdminListen,
		AdminPublic:     s.AdminPublic,
		Token:           cfg.ServerToken(),
		ShutdownTimeout: s.ShutdownGrace,
	}
}
