# Sourced by hack/demo.sh and bench/run.sh: starts test/devcluster (a local
# kube-apiserver + etcd with the Flux CRDs) in a temporary directory, exports
# KUBECONFIG, and stops it and removes the directory on exit. Sets $work.
# Objects to create first may be listed in $DEVCLUSTER_SEED (YAML files).
# With $DEVCLUSTER_FLUX_CHART set to a chart directory, the real
# helm-controller and source-controller run too, and that chart is served
# from a Helm repository on 127.0.0.1 for the seeded HelmRepository.
# Needs KUBEBUILDER_ASSETS and COZYHR_TEST_CRDS (and COZYHR_FLUX for the controllers), as make sets them.

work=$(mktemp -d)
devcluster_pid=
stop_devcluster() {
	if [[ -n $devcluster_pid ]]; then
		kill "$devcluster_pid" 2>/dev/null || true
		wait "$devcluster_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap stop_devcluster EXIT

go build -o "$work/devcluster" ./test/devcluster
# shellcheck disable=SC2086 # a list of files
"$work/devcluster" ${DEVCLUSTER_FLUX_CHART:+-flux "$DEVCLUSTER_FLUX_CHART"} "$work" ${DEVCLUSTER_SEED:-} >"$work/devcluster.out" 2>"$work/devcluster.log" &
devcluster_pid=$!
for _ in $(seq 1 120); do
	[[ -s $work/devcluster.out ]] && break
	if ! kill -0 "$devcluster_pid" 2>/dev/null; then cat "$work/devcluster.log" >&2; exit 1; fi
	sleep 0.5
done
KUBECONFIG=$(head -1 "$work/devcluster.out")
export KUBECONFIG
[[ -n $KUBECONFIG ]] || { echo "the local cluster did not start" >&2; cat "$work/devcluster.log" >&2; exit 1; }
