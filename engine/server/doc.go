// Package server is the HTTP API of `ffe serve`: download-tracker export
// jobs, their bundles, the stock monitor, and an admin listener with
// Prometheus metrics and pprof.
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
// New acquires everything (the bundle directory, the job tables, the
// crew); Serve or Run start the workers, the monitor and retention and
// serve until their context ends; then they shut down gracefully. Close
// releases what New acquired. The Deps (providers, database, logger) belong
// to the caller, which closes them after Close.
package server
