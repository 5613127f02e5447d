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
//	GET    /api/exports/{id}                   manifest with links
//	GET    /api/exports/{id}/files/{name}      download (Range, ETag = SHA-256)
//	DELETE /api/exports/{id}                   delete (204)
//	GET    /healthz, /readyz                   liveness and readiness, no token
//
// Every /api/ route needs "Authorization: Bearer <token>" (401 otherwise).
// Errors are RFC 9457 problem details (application/problem+json);
// validation problems name the field at fault in "field" and list every
// one in "errors". Request bodies are limited to MaxBodyBytes and decoded
// strictly. Ids and file names come from a strict character set, and
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
