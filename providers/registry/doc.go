// Package registry is the one place a provider's facts are written: its
// name, the asset classes it serves market data for, the secrets it takes
// (which of them it cannot be built without, and the FFE_* variables that
// hold them), the sandbox route prefix of each of its APIs and its
// constructor. Everything else reads them from here: engine/config for the
// provider names and secrets it accepts, the engine's wiring to build
// clients, tests to walk every provider.
//
// # Imports
//
// The registry imports the provider packages (alphavantage, coinbase,
// finnhub, llm, oanda, polygon, reddit, yahoo), the shared providers core
// and providers/sandbox (route prefixes and stand-in credentials), and
// nothing of engine: engine/config imports it for the secret facts and
// engine imports engine/config, so an import of either would be a cycle.
// Configuration reaches a constructor as Settings, a plain struct.
//
// # Adding a provider
//
// Write its client package under providers, serve it in the sandbox under
// a new prefix, and add one entry to the list in registry.go; the
// configuration accepts its name and secrets, and the engine builds it,
// without further edits (routing it by default is a configuration choice).
package registry
