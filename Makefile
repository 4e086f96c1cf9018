# networkfeed — make targets. `make test` is what CI runs (.ci/run).
GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1x
FUZZTIME  ?= 30s
NODE_DEPS := internal/publish/testdata/node_modules
A11Y_DEPS := internal/web/testdata/node_modules

.PHONY: all build run demo test test-short bench bench-fleet bench-miniflux fuzz vet node-deps clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o networkfeed ./cmd/networkfeed

run: build
	./networkfeed serve

demo: build
	./networkfeed demo

# Node packages for the JSON Feed schema check (ajv + jsonfeed-schema) and the browser's
# accessibility check (axe-core), from their lock files.
node-deps: $(NODE_DEPS) $(A11Y_DEPS)
$(NODE_DEPS): internal/publish/testdata/package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund --prefix internal/publish/testdata; touch $(NODE_DEPS); fi
$(A11Y_DEPS): internal/web/testdata/package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund --prefix internal/web/testdata; touch $(A11Y_DEPS); fi

vet:
	$(GO) vet $(PKGS)

# Every test: unit, conformance (bbolt, private redis-server, 3-master Redis Cluster),
# end to end, external validators (feedparser, JSON Feed schema, newsboat) and the browser.
test: node-deps vet
	$(GO) test -race -count=1 -timeout 40m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Benchmarks: see BENCHMARKS.md for the figures and how they were measured.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

# Each fuzz target for FUZZTIME. Seeds: testdata/fuzz/<Target> (FuzzParse, FuzzRefresh,
# FuzzCanonical), page/testdata/fuzz/*.html (FuzzExtract, FuzzDetect), and f.Add in the tests.
# go test -fuzz takes one target in one package, so targets are listed per package.
# -fuzzminimizetime 10x: FuzzRefresh's coverage is not deterministic (an HTTP server, a store),
# so most inputs look new and each was minimised for the default 60 s: 27 executions in 5 min.
fuzz:
	@set -e; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' internal | xargs -n1 dirname | sort -u); do \
	  for t in $$($(GO) test -list '^Fuzz' ./$$pkg | grep '^Fuzz'); do \
	    echo "fuzz ./$$pkg $$t for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10x ./$$pkg; \
	  done; \
	done

# Full poll of N loopback feeds (shared/tools/fleet) on bbolt and Redis: wall, CPU, peak RSS.
# FLEET_N="1000 10000" by default; see scripts/bench-fleet.sh and BENCHMARKS.md "## Polling".
bench-fleet:
	scripts/bench-fleet.sh $(FLEET_N)

# The same workload through Miniflux and PostgreSQL (the issue's reference), for a same-day
# comparison: the machine's speed varies from day to day. Builds Miniflux outside the repo.
bench-miniflux:
	scripts/bench-miniflux.sh $(FLEET_N)

clean:
	rm -rf networkfeed out
