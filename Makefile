# Vigil — build, test, lint. `make help` lists the targets.
GO        ?= go
BIN       ?= bin/vigil
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/vigil-scan/vigil/internal/cli.Version=$(VERSION)
CORPUS    ?= $(abspath ../shared/corpus)
DEMO_DB   ?= $(abspath .cache/demo/vigil.db)

.PHONY: help build demo test test-short lint fuzz bench clean release

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/vigil
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vigil

demo: build ## build, import the corpus feeds offline, scan the corpus Alpine image and Python/Go/Rust package databases
	VIGIL_DB=$(DEMO_DB) $(BIN) db import $(CORPUS)/feeds
	VIGIL_DB=$(DEMO_DB) $(BIN) image docker-archive:$(CORPUS)/images/alpine-310.tar.gz
	VIGIL_DB=$(DEMO_DB) $(BIN) image dir:$(CORPUS)/pkgdb/python --checks=false --secrets=false

test: lint ## vet, lint and run every test (what CI runs)
	$(GO) test -count=1 -timeout 15m ./...

test-short: ## tests without lint
	$(GO) test -count=1 -timeout 15m ./...

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

fuzz: ## run every fuzz target for FUZZTIME each (default 15s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$${FUZZTIME:-15s} $$pkg || exit 1; \
	  done; done

bench: ## run the Go benchmarks (the large-image benchmark is bench/layers.sh)
	$(GO) test -run='^$$' -bench=. -benchmem ./...

clean:
	rm -rf bin .cache

release: ## build the release assets into dist/ (VERSION=vX.Y.Z)
	bash ci/release.sh $(VERSION)
