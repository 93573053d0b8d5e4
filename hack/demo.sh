#!/usr/bin/env bash
# make demo: start a throwaway kube-apiserver + etcd (the cached test
# binaries) with the Flux CRDs, then show, apply, change and diff
# examples/hello with bin/cozyhr, and stop the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> starting a local kube-apiserver and etcd, with the example's HelmRelease"
DEVCLUSTER_SEED=$PWD/examples/hello/flux/helmrelease.yaml
# shellcheck source=hack/devcluster.sh
. hack/devcluster.sh

cozyhr=$PWD/bin/cozyhr
# make build put the example plugins here.
export COZYHR_PLUGINS_PATH=$PWD/bin/plugins
run() { echo; echo "\$ cozyhr $*"; "$cozyhr" "$@"; }

cd examples/hello
run version
run plugins list
run get
run show --show-only templates/deployment.yaml
run diff --brief
run apply
run get -o wide
run diff
run diff --set replicas=3 --set message="Hello again" || true
run apply --set replicas=3 --set message="Hello again"
run diff --set replicas=3 --set message="Hello again" --exit-code
run resume
run delete
echo
echo "==> demo done; stopping the local cluster"
