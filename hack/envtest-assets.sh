#!/usr/bin/env bash
# Builds the real kube-apiserver and etcd that envtest runs, from the Go module
# proxy (no prebuilt binaries can be downloaded here), and caches them outside
# the repository. Prints the assets directory on stdout as its last line so
# the Makefile can export it as KUBEBUILDER_ASSETS.
#
#   hack/envtest-assets.sh            build what is missing, print the dir
#   FORCE=1 hack/envtest-assets.sh    rebuild
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
CACHE=${COZYHR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cozyhr}
ASSETS=$CACHE/envtest/$K8S_VERSION
WORK=$CACHE/envtest/build
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

log() { echo "envtest-assets: $*" >&2; }
mkdir -p "$ASSETS" "$WORK"

build_apiserver() {
	# The version is read whole before it is matched: with pipefail, grep -q
	# ending the pipe early would fail the check and rebuild for nothing.
	if [[ -z ${FORCE:-} && -x $ASSETS/kube-apiserver ]] &&
		[[ $("$ASSETS/kube-apiserver" --version 2>/dev/null) == "Kubernetes v$K8S_VERSION" ]]; then
		return
	fi
	log "building kube-apiserver v$K8S_VERSION (about 10 minutes on 2 cores, once)"
	local dir=$WORK/kube-apiserver staging=v0.${K8S_VERSION#1.}
	mkdir -p "$dir"
	local kmod
	kmod=$(cd "$dir" && go list -m -f '{{.GoMod}}' "k8s.io/kubernetes@v$K8S_VERSION")
	# k8s.io/kubernetes pins its staging modules at v0.0.0 with replaces that do
	# not apply to dependents; point each at its published release instead.
	{
		printf 'module cozyhr.local/envtest/kube-apiserver\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$K8S_VERSION"
		grep -E '^\s+k8s\.io/[a-z0-9.-]+ v0\.0\.0$' "$kmod" | awk -v v="$staging" '{printf "\t%s => %s %s\n", $1, $1, v}'
		printf ')\n'
		printf '\ntool k8s.io/kubernetes/cmd/kube-apiserver\n'
	} >"$dir/go.mod"
	rm -f "$dir/go.sum"
	(cd "$dir" && go mod tidy >&2)
	local pkg=k8s.io/component-base/version
	(cd "$dir" && go build -trimpath \
		-ldflags "-s -w -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION") -X $pkg.gitTreeState=clean" \
		-o "$ASSETS/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
	mv "$ASSETS/kube-apiserver.tmp" "$ASSETS/kube-apiserver"
}

build_etcd() {
	if [[ -z ${FORCE:-} && -x $ASSETS/etcd ]] &&
		[[ $("$ASSETS/etcd" --version 2>/dev/null) == *"etcd Version: $ETCD_VERSION"* ]]; then
		return
	fi
	log "building etcd v$ETCD_VERSION (about 2 minutes, once)"
	local dir=$WORK/etcd
	mkdir -p "$dir"
	cat >"$dir/main.go" <<'GO'
// Command etcd is the upstream etcd server, built from its module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
	printf 'module cozyhr.local/envtest/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION" >"$dir/go.mod"
	rm -f "$dir/go.sum"
	(cd "$dir" && go mod tidy >&2 && go build -trimpath -ldflags "-s -w" -o "$ASSETS/etcd.tmp" .)
	mv "$ASSETS/etcd.tmp" "$ASSETS/etcd"
}

# Serialise concurrent runs (make test and make demo started together).
exec 9>"$CACHE/envtest/.lock"
flock 9
build_etcd
build_apiserver
echo "$ASSETS"
