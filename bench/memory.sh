#!/usr/bin/env bash
# make bench-memory: peak memory and wall time of `cozyhr diff` on generated
# charts of OBJECTS objects each (default "1000 5000 20000"), installed into
# the local cluster, nothing to change; medians of RUNS runs (default 3).
# helm-diff is not served by the Go module proxy here: its figures in
# docs/performance.md come from the issue that set the goal.
set -euo pipefail
cd "$(dirname "$0")/.."
OBJECTS=${OBJECTS:-1000 5000 20000} RUNS=${RUNS:-3}
# shellcheck source=hack/devcluster.sh
. hack/devcluster.sh
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/cozyhr" ./cmd/cozyhr
go build -o "$work/genchart" ./bench/genchart
go build -o "$work/measure" ./bench/measure
echo "| objects | cozyhr diff | peak memory |"
echo "|---|---|---|"
for n in $OBJECTS; do
	"$work/genchart" "$work/chart-$n" "$n" >/dev/null
	"$work/cozyhr" -C "$work/chart-$n" -n "gen-$n" apply --plain --create-namespace >/dev/null 2>&1
	r=$("$work/measure" -n "$RUNS" -- "$work/cozyhr" -C "$work/chart-$n" -n "gen-$n" diff --plain --exit-code)
	ms=$(sed -E 's/.*"median_s":([0-9.]+).*/\1/' <<<"$r" | awk '{ printf "%.0f", $1 * 1000 }')
	mb=$(sed -E 's/.*"max_rss_kb":([0-9]+).*/\1/' <<<"$r" | awk '{ printf "%.1f", $1 / 1024 }')
	echo "| $n | $ms ms | $mb MiB |"
done
