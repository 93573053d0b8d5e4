#!/usr/bin/env bash
# make demo: start a throwaway kube-apiserver + etcd (the cached test
# binaries) with the Flux CRDs, then show, apply, change and diff
# examples/hello with bin/cozyhr, and stop the cluster.
#
# make demo FLUX=1 also runs the real helm-controller and source-controller:
# Flux installs the chart, cozyhr diffs clean, applies a template change,
# resumes, and Flux keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."

DEVCLUSTER_SEED=$PWD/examples/hello/flux/helmrelease.yaml
if [[ -n ${FLUX:-} ]]; then
	echo "==> starting a local kube-apiserver, etcd, helm-controller and source-controller; Flux installs examples/hello"
	DEVCLUSTER_FLUX_CHART=$PWD/examples/hello
else
	echo "==> starting a local kube-apiserver and etcd, with the example's HelmRelease"
fi
# shellcheck source=hack/devcluster.sh
. hack/devcluster.sh

cozyhr=$PWD/bin/cozyhr
# make build put the example plugins here.
export COZYHR_PLUGINS_PATH=$PWD/bin/plugins
run() { echo; echo "\$ cozyhr $*"; "$cozyhr" "$@"; }

if [[ -n ${FLUX:-} ]]; then
	# A copy to edit, as a developer edits the chart in their checkout.
	cp -r examples/hello "$work/hello"
	cd "$work/hello"
	run reconcile
	run get
	run diff --exit-code
	run diff --server-side --exit-code
	echo
	echo "\$ # a template change the HelmRelease knows nothing of"
	sed -i 's|^data:$|data:\n  edited: "in my checkout"|' templates/configmap.yaml
	run diff || true
	run apply
	run resume --wait
	run reconcile
	run get -o wide
	run diff --exit-code
	run delete
	echo
	echo "==> demo done; stopping the local cluster and controllers"
	exit 0
fi

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
