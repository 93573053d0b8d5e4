# cozyhr's build, test and demo. `make test` is all the set-up a fresh
# machine with Go needs: it builds kube-apiserver, etcd, helm-controller and
# source-controller from the Go module proxy once, caching them (and the
# CRDs the controllers ship) under $(CACHE), and installs GNU patch and
# buildah with apt-get when run as root on Debian.

GO        ?= go
CACHE     ?= $(or $(COZYHR_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cozyhr)
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILDDATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKG       := github.com/cozyhr/cozyhr/cmd
LDFLAGS   := -s -w -X $(PKG).version=$(VERSION) -X $(PKG).commit=$(COMMIT) -X $(PKG).buildDate=$(BUILDDATE)

export GOTOOLCHAIN := local
export COZYHR_CACHE := $(CACHE)

# Test assets: a user-provided KUBEBUILDER_ASSETS wins over the cached build.
ASSETS = $(if $(KUBEBUILDER_ASSETS),$(KUBEBUILDER_ASSETS),$$(hack/envtest-assets.sh))
FLUXDIR = $$(hack/flux-controllers.sh)

.PHONY: all build proto test test-corpus test-short demo envtest flux fuzz bench bench-many bench-serverside bench-instances bench-review bench-text bench-memory fmt vet clean

all: build

build: ## Build bin/cozyhr (static: no cgo) and the example plugins into bin/plugins
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/cozyhr ./cmd/cozyhr
	@for p in plugins/examples/*/; do \
	  $(GO) build -trimpath -o bin/plugins/cozyhr-plugin-$$(basename $$p) ./$$p || exit 1; done

proto: ## Regenerate plugins/sdk/proto from plugin.proto (needs protoc; installs the Go generators)
	@command -v protoc >/dev/null || { echo "protoc is missing: apt-get install protobuf-compiler"; exit 1; }
	GOBIN=$(CACHE)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
	GOBIN=$(CACHE)/bin $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
	cd plugins/sdk/proto && PATH=$(CACHE)/bin:$$PATH protoc --go_out=paths=source_relative:. \
	  --go-grpc_out=paths=source_relative:. plugin.proto

envtest: ## Build (once) the cached kube-apiserver and etcd
	@hack/envtest-assets.sh

flux: ## Build (once) the cached helm-controller and source-controller, with their CRDs
	@hack/flux-controllers.sh

test: ## Run every test against a real kube-apiserver
	@hack/tools.sh
	@assets=$(ASSETS) && flux=$(FLUXDIR) && \
	  KUBEBUILDER_ASSETS=$$assets COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds $(GO) test -count=1 -timeout 40m ./...
	@hack/fuzz.sh

test-corpus: ## The corpus assertions over any tree of charts: make test-corpus CORPUS=DIR (default: ../shared)
	@assets=$(ASSETS) && flux=$(FLUXDIR) && \
	  KUBEBUILDER_ASSETS=$$assets COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds CORPUS=$(if $(CORPUS),$(abspath $(CORPUS))) \
	  $(GO) test -count=1 -timeout 60m -run '^TestCorpus$$' -v ./test/flux

fuzz: ## Run every fuzz target longer: make fuzz FUZZTIME=200000x (a count; a duration such as 5m works too)
	@hack/fuzz.sh

demo: build ## Start a local apiserver, apply and diff examples/hello, stop
	@flux=$(FLUXDIR) && KUBEBUILDER_ASSETS=$(ASSETS) COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds FLUX=$(FLUX) hack/demo.sh

bench: ## Compare cozyhr with helm template / helm upgrade on the shared charts and a 5,000-object chart
	@flux=$(FLUXDIR) && KUBEBUILDER_ASSETS=$(ASSETS) COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds bench/run.sh

bench-serverside: ## diff --server-side beside the default diff on a generated chart: make bench-serverside OBJECTS=1000
	@flux=$(FLUXDIR) && KUBEBUILDER_ASSETS=$(ASSETS) COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds bench/serverside.sh

bench-instances: ## diff --instances over 50 live instances of one chart: make bench-instances COUNT=50 OBJECTS=10
	@flux=$(FLUXDIR) && KUBEBUILDER_ASSETS=$(ASSETS) COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds bench/instances.sh

bench-review: ## diff --base on a generated 100-chart repository (one chart changed, then all) and on the shared charts
	@bench/review.sh

bench-text: ## A review of 1,000 and 4,000 changed 2.5 kB text values in every output format: make bench-text COUNTS="1000 4000"
	@bench/text.sh

bench-memory: ## Peak memory of diff on generated charts: make bench-memory OBJECTS="1000 5000 20000"
	@flux=$(FLUXDIR) && KUBEBUILDER_ASSETS=$(ASSETS) COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds bench/memory.sh

bench-many: ## Many charts in one run: the shared charts, and a generated 100-chart monorepo against loops of single runs
	@flux=$(FLUXDIR) && KUBEBUILDER_ASSETS=$(ASSETS) COZYHR_FLUX=$$flux COZYHR_TEST_CRDS=$$flux/crds bench/many.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
