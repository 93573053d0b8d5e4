#!/usr/bin/env bash
# Generates the Flux CRDs that tests and the demo cluster install, with
# controller-gen, from the helm-controller and source-controller api modules
# pinned in go.mod (the modules ship Go types, not CRD manifests). Output is
# cached outside the repository, keyed by the module versions; the directory
# is printed on stdout as the last line.
set -euo pipefail
cd "$(dirname "$0")/.."

CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}
CACHE=${COZYHR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cozyhr}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

hc=$(go list -m -f '{{.Version}}' github.com/fluxcd/helm-controller/api)
sc=$(go list -m -f '{{.Version}}' github.com/fluxcd/source-controller/api)
out=$CACHE/crds/helm-controller-$hc-source-controller-$sc
if [[ -z ${FORCE:-} && -s $out/helm.toolkit.fluxcd.io_helmreleases.yaml ]]; then
	echo "$out"
	exit 0
fi

gen=$CACHE/bin/controller-gen-$CONTROLLER_TOOLS_VERSION
if [[ ! -x $gen ]]; then
	echo "flux-crds: installing controller-gen $CONTROLLER_TOOLS_VERSION (once)" >&2
	mkdir -p "$CACHE/bin"
	tmp=$(mktemp -d)
	GOBIN=$tmp go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION" >&2
	mv "$tmp/controller-gen" "$gen"
	rm -rf "$tmp"
fi

echo "flux-crds: generating CRDs from helm-controller/api $hc and source-controller/api $sc" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go mod download github.com/fluxcd/helm-controller/api github.com/fluxcd/source-controller/api
"$gen" crd \
	paths=github.com/fluxcd/helm-controller/api/v2 \
	paths=github.com/fluxcd/source-controller/api/v1 \
	output:crd:dir="$tmp" >&2
mkdir -p "$out.new"
for f in helm.toolkit.fluxcd.io_helmreleases source.toolkit.fluxcd.io_helmrepositories \
	source.toolkit.fluxcd.io_helmcharts source.toolkit.fluxcd.io_ocirepositories; do
	cp "$tmp/$f.yaml" "$out.new/"
done
rm -rf "$out"
mv "$out.new" "$out"
echo "$out"
