# networkfeed — make targets. `make test` is what CI runs (.ci/run).
GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1x
FUZZTIME  ?= 30s
NODE_DEPS := internal/publish/testdata/node_modules

.PHONY: all build run demo test test-short bench fuzz vet node-deps clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o networkfeed ./cmd/networkfeed

run: build
	./networkfeed serve

demo: build
	./networkfeed demo

# Node packages for the JSON Feed schema check (ajv + jsonfeed-schema), from the lock file.
node-deps: $(NODE_DEPS)
$(NODE_DEPS): internal/publish/testdata/package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund --prefix internal/publish/testdata; touch $(NODE_DEPS); fi

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

# Each fuzz target for FUZZTIME (seed corpora in testdata/fuzz).
fuzz:
	@for t in $$($(GO) test -list '^Fuzz' $(PKGS) 2>/dev/null | grep -v '^ok' ); do \
	  pkg=$$(grep -rl "func $$t(" --include='*_test.go' internal | head -1 | xargs dirname); \
	  echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; \
	done

clean:
	rm -rf networkfeed out
