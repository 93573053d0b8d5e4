#!/usr/bin/env bash
# make bench-instances: diff --instances over COUNT live instances (default
# 50) of one generated chart of OBJECTS objects (default 10), one
# HelmRelease per namespace as a platform creates them, against the local
# kube-apiserver. The instances are installed by `cozyhr apply --instances`
# (suspend, install, status recorded as helm-controller would). Prints the
# median wall time of RUNS runs (default 3) of `diff --instances`, and the
# API requests one run makes (the server's apiserver_request_total).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-50} OBJECTS=${OBJECTS:-10} RUNS=${RUNS:-3}
seed=$(mktemp)
trap 'rm -f "$seed"' EXIT
for i in $(seq "$COUNT"); do
	cat >>"$seed" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: tenant-$i}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app, namespace: tenant-$i}
spec:
  interval: 1h
  chart: {spec: {chart: generated, sourceRef: {kind: HelmRepository, name: generated}}}
  values: {tenant: "$i"}
---
YAML
done
export DEVCLUSTER_SEED=$seed
# shellcheck source=hack/devcluster.sh
. hack/devcluster.sh
trap 'rm -f "$seed"; stop_devcluster' EXIT
go build -trimpath -ldflags "-s -w" -o "$work/cozyhr" ./cmd/cozyhr
go build -o "$work/genchart" ./bench/genchart
"$work/genchart" "$work/chart" "$OBJECTS" >/dev/null
"$work/cozyhr" -C "$work/chart" apply --instances --yes --concurrency 4 >"$work/apply.log" 2>&1 || { cat "$work/apply.log" >&2; exit 1; }
go build -o "$work/measure" ./bench/measure
# Nothing to change on any instance, so --exit-code must exit 0.
r=$("$work/measure" -n "$RUNS" -kubeconfig "$KUBECONFIG" -- "$work/cozyhr" -C "$work/chart" diff --instances --exit-code)
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$r"; }
echo "diff --instances, $COUNT instances of $OBJECTS objects: $(awk -v s="$(field median_s)" 'BEGIN { printf "%.0f", s * 1000 }') ms (median of $RUNS), $(awk -v k="$(field max_rss_kb)" 'BEGIN { printf "%.0f", k / 1024 }') MB peak, $(field requests_per_run) API requests"
