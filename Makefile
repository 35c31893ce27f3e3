# regify-verify: every target does its own set-up (system packages, images,
# Go builds), so a fresh machine needs nothing but Go and make (Docker, when
# present, runs the lab's MariaDB pair; without it two local mariadbd do).

GO        ?= go
BIN       := bin/regify-verify
OUT       ?= out
# The reaper image cannot be pulled without a registry; cleanup is ours.
export TESTCONTAINERS_RYUK_DISABLED := true

# images_or_process builds the images when a Docker engine answers (the
# docker CLI, like the harness, honours DOCKER_HOST); without one it says so
# and goes on: the harness then runs the process backend (two local mariadbd).
# Skipping is safe either way, the lab also builds missing images on demand.
# The binary image is made from the binary just built ('images build' alone
# compiles one of its own: 3 s against 0.4 s).
define images_or_process
	@if command -v docker >/dev/null 2>&1 && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then \
		echo "$(BIN) images build --binary $(BIN)"; $(BIN) images build --binary $(BIN); \
	else \
		echo "no Docker engine answers: skipping the image build, the process backend (two local mariadbd) will be used"; \
	fi
endef

.PHONY: run test lint build setup images bench bench-lb fuzz clean

## run: build what is missing, run the whole catalogue in the lab, write ./out
run: setup build
	$(images_or_process)
	$(BIN) run --out $(OUT)

## test: every test of the project, including the lab's real containers.
## First, alone: the sweep's tests (a lab starting elsewhere sweeps the dead
## runs they stage) and the catalogue (its verdicts time users to the
## second; beside other packages its first database scenarios stalled past
## 1 s, measured). Then every other package, four at a time (most of
## their time is waiting on labs and containers; 146 s against about 175 s
## at three), the long ones first, the deployment rigs side by side
## (-parallel 8).
## Tests whose labs start regify-verify as a child (providers, agents) run
## the binary just built rather than building their own.
## The swarm agents' test (in ./scenarios/agents) makes the engine a swarm
## and leaves it; the MariaDB pairs in containers beside it do not mind
## since their replicas connect by fixed address, not by name.
ALONE := ./harness/cleanup ./scenarios/catalogue
## The longest of the rest first, so that none of them starts last.
LONG  := ./scenarios/deploy ./scenarios/agents ./scenarios ./harness/mariadb ./harness
test: export REGIFY_VERIFY_BIN = $(CURDIR)/$(BIN)
test: setup build lint
	$(images_or_process)
	$(GO) test -p 1 -count=1 -timeout 30m $(ALONE)
	$(GO) test -p 4 -parallel 8 -count=1 -timeout 45m $(LONG) $$($(GO) list ./... | grep -v -e '/harness/cleanup$$' -e '/scenarios/catalogue$$' -e '/scenarios/agents$$' -e '/scenarios/deploy$$' -e '/scenarios$$' -e '/harness/mariadb$$' -e '/harness$$')

## lint: gofmt and go vet
lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...

## build: the static regify-verify binary
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/regify-verify

## setup: install missing system packages (Debian/Ubuntu as root)
setup:
	@bash scripts/setup.sh

## images: build the lab's container images (no registry needed)
images: setup build
	$(BIN) images build --binary $(BIN)

## bench: Go benchmarks of the hot paths
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-lb: the built-in balancer against HAProxy, interleaved rounds
bench-lb: setup build
	bash scripts/bench-lb.sh

## fuzz: run every fuzz target for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin $(OUT)
