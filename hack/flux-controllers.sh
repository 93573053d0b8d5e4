#!/usr/bin/env bash
# Builds the real Flux helm-controller and source-controller from the Go
# module proxy (no prebuilt binaries can be downloaded here), each through a
# small wrapper module, and caches them with the CRDs they ship (their
# config/crd/bases, which the main modules' zips carry). Prints the directory
# on stdout as its last line:
#
#   $DIR/helm-controller  $DIR/source-controller  $DIR/crds/*.yaml
#
#   hack/flux-controllers.sh            build what is missing, print the dir
#   FORCE=1 hack/flux-controllers.sh    rebuild
set -euo pipefail

HC_VERSION=${HC_VERSION:-v1.6.3}
SC_VERSION=${SC_VERSION:-v1.9.1}
CACHE=${COZYHR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cozyhr}
OUT=$CACHE/flux/helm-controller-$HC_VERSION-source-controller-$SC_VERSION
WORK=$CACHE/flux/build
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

log() { echo "flux-controllers: $*" >&2; }
mkdir -p "$OUT" "$WORK"

# wrapper DIR MODULE VERSION REPLACES... writes a go.mod that builds MODULE's
# main package as a tool. The controllers' own replaces do not apply to a
# module that depends on them, so the ones they need are repeated here.
wrapper() {
	local dir=$1 mod=$2 ver=$3
	shift 3
	mkdir -p "$dir"
	{
		printf 'module cozyhr.local/flux/%s\n\ngo 1.26.0\n\nrequire %s %s\n\nreplace (\n' "$(basename "$dir")" "$mod" "$ver"
		for r in "$@"; do printf '\t%s\n' "$r"; done
		printf ')\n\ntool %s\n' "$mod"
	} >"$dir/go.mod"
	rm -f "$dir/go.sum"
	(cd "$dir" && go mod tidy >&2)
}

# build NAME VERSION REPLACES... builds github.com/fluxcd/NAME at VERSION
# into $OUT/NAME and copies its CRDs, unless a previous run did.
build() {
	local name=$1 version=$2
	shift 2
	if [[ -z ${FORCE:-} && -x $OUT/$name && -e $OUT/crds/.$name ]]; then
		return
	fi
	log "building $name $version (a few minutes on 2 cores, once)"
	local dir=$WORK/$name mod=github.com/fluxcd/$name
	wrapper "$dir" "$mod" "$version" "$mod/api => $mod/api $version" "$@"
	(cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$OUT/$name.tmp" "$mod")
	mv "$OUT/$name.tmp" "$OUT/$name"
	copy_crds "$dir" "$mod"
	touch "$OUT/crds/.$name"
}

# copy_crds DIR MODULE copies the CRDs the controller ships.
copy_crds() {
	local src
	src=$(cd "$1" && go list -m -f '{{.Dir}}' "$2")/config/crd/bases
	mkdir -p "$OUT/crds"
	cp "$src"/*.yaml "$OUT/crds/"
	chmod u+w "$OUT"/crds/*.yaml
}

# Serialise concurrent runs (make test and make demo started together).
exec 9>"$CACHE/flux/.lock"
flock 9
# helm-controller pins helm to a Flux fork (github.com/fluxcd/helm/v4
# v4.2.4-flux.1) that the proxy does not serve; upstream v4.2.4 is the
# release it forks.
build helm-controller "$HC_VERSION" \
	"github.com/fluxcd/pkg/chartutil => github.com/fluxcd/pkg/chartutil v1.27.1" \
	"github.com/opencontainers/go-digest => github.com/opencontainers/go-digest v1.0.1-0.20231025023718-d50d2fec9c98" \
	"sigs.k8s.io/kustomize/api => sigs.k8s.io/kustomize/api v0.21.1" \
	"sigs.k8s.io/kustomize/kyaml => sigs.k8s.io/kustomize/kyaml v0.21.1" \
	"helm.sh/helm/v4 => helm.sh/helm/v4 v4.2.4"
build source-controller "$SC_VERSION" \
	"github.com/opencontainers/go-digest => github.com/opencontainers/go-digest v1.0.1-0.20220411205349-bde1400a84be"
echo "$OUT"
