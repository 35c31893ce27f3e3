# regify-verify: every target does its own set-up (system packages, images,
# Go builds), so a fresh machine needs nothing but Go, Docker and make.

GO        ?= go
BIN       := bin/regify-verify
OUT       ?= out
# The reaper image cannot be pulled without a registry; cleanup is ours.
export TESTCONTAINERS_RYUK_DISABLED := true

.PHONY: run test lint build setup images bench bench-lb fuzz clean

## run: build what is missing, run the whole catalogue in the lab, write ./out
run: setup build
	$(BIN) images build
	$(BIN) run --out $(OUT)

## test: every test of the project, including the lab's real containers
test: setup build lint
	$(BIN) images build
	$(GO) test -p 1 -count=1 -timeout 75m ./...

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
	$(BIN) images build

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
