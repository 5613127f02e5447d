// Package server is the HTTP layer of `ffe serve`: the export API
// (download-tracker jobs and their bundles) and an admin listener with
// Prometheus metrics and pprof, over an engine/service Service that owns
// the job queue, the bundles, the crew, the stock monitor and retention.
//
// # API
//
//	POST   /api/jobs/download-tracker/trigger  queue an export (202, or 429 with Retry-After)
//	GET    /api/jobs/{id}                      status, progress, timings, error
//	GET    /api/jobs?status=…&limit=…          jobs, newest first
//	DELETE /api/jobs/{id}                      cancel (200 cancelled, 202 cancelling, 409 finished)
//	GET    /api/exports/{id}                   manifest with links (410 once deleted)
//	GET    /api/exports/{id}/files/{name}      download (Range, ETag = SHA-256)
//	DELETE /api/exports/{id}                   delete (204)
//	GET    /healthz, /readyz                   liveness and readiness, no token
//
// Every /api/ route needs "Authorization: Bearer <token>" (401 otherwise).
// Errors are RFC 9457 problem details (application/problem+json);
// validation problems name the field at fault in "field" and list every
// one in "errors", repeating an input only as a short excerpt. Request
// bodies are limited to MaxBodyBytes: a body declared larger is answered
// 413 before it is read (and a client that sends "Expect: 100-continue" is
// never told to continue), a chunked one once it passes the limit. A body
// that does not arrive within Config.BodyTimeout is answered 408. Bodies
// are decoded strictly: one JSON value, no unknown fields, keys spelled
// exactly (not in another case). A trigger with "symbols": [] is refused;
// leave the field out to export the watchlist.
//
// A succeeded job whose export was deleted (by DELETE or by retention)
// shows no export link but "export_gone" with the reason, and its export
// answers 410 Gone; an export that never existed answers 404.
//
// Without a configured token the server listens on loopback only; beyond
// loopback the token must be at least MinTokenLength characters. Ids and file names come from a strict character set, and
// paths with dot segments, empty segments or encoded slashes are refused,
// so no request reaches outside the export directory.
//
// # Lifecycle
//
// New builds the handlers over a service and registers the metrics of its
// queue, monitor and crew memory; it creates none of the service's parts.
// Serve or Run start the service (service.Service.Start) and serve until
// their context ends; then they shut down gracefully: the listener closes
// while the service's running jobs finish up to Config.ShutdownTimeout
// (service.Service.Shutdown), the rest staying queued. Close ends serving.
// The service belongs to the caller (in `ffe serve`, the Engine), which
// closes it after the Server.
//
// # What it owns and may import
//
// It owns the handlers, the middleware (token, body limits, path checks,
// request metrics), the metrics registry and exposition, and the
// listeners. It imports engine/service and the types the handlers show
// (engine/jobs, engine/export, engine/exportbundle, engine/crew,
// engine/monitor) and providers for the request counter; it does not
// import engine, engine/config or engine/cli, which build on it.
package server
