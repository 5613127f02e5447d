// Package service is what `ffe serve` runs besides HTTP: the bundle
// store, the job queue and its export handler, the analytics crew, the
// stock monitor and the retention loop. One Service owns all of them.
//
// # Lifecycle
//
// New builds every part (in this order: bundle store, job queue, crew,
// exporter, monitor) or, on error, releases what it built; nothing runs
// yet. Start starts the queue's workers, the monitor and the retention
// loop, each as a goroutine the Service owns. Shutdown stops them
// gracefully: the workers stop claiming jobs at once, running jobs get
// until the context's deadline and the jobs not started stay queued for
// the next process; then the retention loop and the monitor stop. Close
// interrupts whatever still runs and releases the parts in reverse order
// of creation; it is idempotent. In `ffe serve` the Engine builds the
// Service (engine.Engine.NewService) and closes it before its providers
// and store; engine/server serves HTTP over it and calls Start and
// Shutdown around its listeners.
//
// # Defaults and zero
//
// A zero count or duration of Config is the default: the constants of
// this package and of jobs, export, crew and monitor. Off is spelled
// explicitly: a negative retention bound keeps everything on that bound,
// MonitorOff turns the monitor off, CrewMemory turns the crew's memory on.
//
// # What it may import
//
// engine/jobs, engine/export, engine/exportbundle, engine/crew,
// engine/monitor, engine/store and providers. It does not import
// engine, engine/config or engine/server, which build on it.
package service
