# leakgate — entry points. Each target is one command line; logic lives in Go.
GO       ?= go
PKGS     ?= ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

REPORTS  ?= out

.PHONY: all build test unit test-short leakcheck soak load selftest vet staticcheck lint tidy-check cover bench fuzz clean leakcheck-deep test-deep

all: build test

build:
	$(GO) build -ldflags "$(LDFLAGS) -X github.com/leakgate/leakgate/scenarios/cli.Version=$(VERSION)" -o bin/ ./cmd/...

# The unit tests, then the leak gate.
test: unit leakcheck

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# The leak gate over the engine: the ci suite (every scenario, mock and live
# modes, 50 iterations), on embedded data; reports in $(REPORTS)/.
leakcheck: bin/leakgate
	bin/leakgate run --suite ci --report-dir $(REPORTS)

# The soak suite: 100 iterations (or LEAKGATE_FLAGS='--duration 10m'),
# live mode, an ffe serve process included; prints the HTML report's path.
soak: bin/leakgate
	bin/leakgate soak --report-dir $(REPORTS)/soak $(LEAKGATE_FLAGS)

# A load run: ffe serve spawned on the sandbox, the trigger endpoint at 100
# requests per second for 30s, the queue drained; fails on the thresholds.
# Reports (and vegeta's results, load.bin) in $(REPORTS)/load/.
load: bin/leakgate
	bin/leakgate load --spawn 'ffe serve' --rate 100/s --duration 30s --max-requests 3000 \
		--workers 10 --max-workers 100 --connections 100 \
		--threshold 'p99<25ms' --threshold 'drain<10s' --report-dir $(REPORTS)/load $(LOAD_FLAGS)

# The self-test: the known leaks of the leakinject build, each caught by the
# metric expected, and the clean build passing the same scenarios.
selftest: bin/leakgate-leakinject
	bin/leakgate-leakinject selftest --report-dir $(REPORTS)/selftest $(SELFTEST_FLAGS)

bin/leakgate-leakinject: FORCE
	$(GO) build -tags leakinject -o bin/leakgate-leakinject ./cmd/leakgate

# The leak gate built with GOEXPERIMENT=goroutineleakprofile (Go 1.26): the
# ci suite again, where the runtime also proves goroutines blocked forever on
# unreachable channels and locks (goroutines_leaked); the workers are this
# binary re-executed, so built the same way. Reports in $(REPORTS)/deep/.
leakcheck-deep: bin/leakgate-deep
	bin/leakgate-deep run --suite ci --report-dir $(REPORTS)/deep

bin/leakgate-deep: FORCE
	GOEXPERIMENT=goroutineleakprofile $(GO) build -ldflags "-X github.com/leakgate/leakgate/scenarios/cli.Version=$(VERSION)" -o bin/leakgate-deep ./cmd/leakgate

# The harness tests that need GOEXPERIMENT=goroutineleakprofile: proven
# deadlocks (goroutineleak_experiment_test.go).
test-deep:
	GOEXPERIMENT=goroutineleakprofile $(GO) test -count=1 -run '^TestGoroutineLeakProfile' ./harness/

bin/leakgate: FORCE
	$(GO) build -ldflags "-X github.com/leakgate/leakgate/scenarios/cli.Version=$(VERSION)" -o bin/leakgate ./cmd/leakgate

FORCE:

test-short:
	$(GO) test -short -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags leakinject $(PKGS)

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

tidy-check:
	$(GO) mod tidy && git diff --exit-code go.mod go.sum

# The module builds and vets for macOS and Windows (the harness reads
# processes through gopsutil there; unix-only code is behind build tags),
# and builds for FreeBSD.
.PHONY: cross
cross:
	GOOS=darwin GOARCH=arm64 $(GO) vet $(PKGS)
	GOOS=darwin GOARCH=arm64 $(GO) build $(PKGS)
	GOOS=windows GOARCH=amd64 $(GO) vet $(PKGS)
	GOOS=windows GOARCH=amd64 $(GO) build $(PKGS)
	GOOS=freebsd GOARCH=amd64 $(GO) build $(PKGS)

lint: vet staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

cover:
	$(GO) test -count=1 -coverprofile=cover.out $(PKGS) && $(GO) tool cover -func=cover.out | tail -1

# The fuzz targets of bad input — config, the API's request decoders, the
# CSV reader — each for FUZZTIME.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./engine/config:FuzzDecode ./engine/server:FuzzDecodeTrigger \
	./engine/export:FuzzParseRange ./engine/bars:FuzzLoadCSV
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

clean:
	rm -rf bin cover.out $(REPORTS)
