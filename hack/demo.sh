#!/usr/bin/env bash
# make demo: start a throwaway kube-apiserver + etcd (the cached test
# binaries) with the Flux CRDs, then show, apply, change and diff
# examples/hello with bin/cozyhr, and stop the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "==> starting a local kube-apiserver and etcd"
go build -o "$work/devcluster" ./test/devcluster
"$work/devcluster" "$work" >"$work/devcluster.out" 2>"$work/devcluster.log" &
pid=$!
for _ in $(seq 1 120); do
	[[ -s $work/devcluster.out ]] && break
	if ! kill -0 "$pid" 2>/dev/null; then cat "$work/devcluster.log" >&2; exit 1; fi
	sleep 0.5
done
export KUBECONFIG=$(head -1 "$work/devcluster.out")
[[ -n $KUBECONFIG ]] || { echo "the local cluster did not start" >&2; cat "$work/devcluster.log" >&2; exit 1; }

cozyhr=$PWD/bin/cozyhr
run() { echo; echo "\$ cozyhr $*"; "$cozyhr" "$@"; }

cd examples/hello
run version
run show --show-only templates/deployment.yaml
run apply
run diff
run diff --set replicas=3 --set message="Hello again" || true
run apply --set replicas=3 --set message="Hello again"
run diff --set replicas=3 --set message="Hello again" --exit-code
run delete
echo
echo "==> demo done; stopping the local cluster"
