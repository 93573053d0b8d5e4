#!/usr/bin/env bash
# make bench-many: many charts in one run against the same local
# kube-apiserver. Prints Markdown tables; see docs/performance.md.
#
# 1. The shared charts: `cozyhr diff` of each alone, then of all of them in
#    one run (-R); the goal is one run <= 1.3x the slowest single chart.
# 2. A generated monorepo of COUNT charts (20-60 objects each, one namespace
#    each, as Cozystack lays out packages/), applied, then diffed in one run
#    (`diff -R`), against a shell loop of single-chart runs and a loop of
#    `helm upgrade --dry-run=server` (helm-diff is not served by the Go module
#    proxy here; its upgrade dry-run is the same render and server round
#    trips, without the live reads and the comparison).
#
#   bench/many.sh [COUNT]     (default 100; ONLY_SHARED=1 stops after 1.)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-100}
RUNS=${RUNS:-5}
HELM_VERSION=v3.22.0
CACHE=${COZYHR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cozyhr}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# shellcheck source=bench/common.sh
. bench/common.sh

m() { "$measure" "$@"; }
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$2"; }
ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
round() { awk -v n="$1" 'BEGIN { printf "%.0f", n }'; }

# 1. The shared charts, each in a copy with its own .cozyhr.yaml (the
# originals under ../shared are read-only and have none).
mkdir -p "$work/shared"
for c in ingress-nginx cert-manager kubeovn metallb; do
	[[ -d ../shared/charts/$c ]] || continue
	cp -r "../shared/charts/$c" "$work/shared/$c"
	ns=bench-$c
	[[ $c == kubeovn ]] && ns=cozy-kubeovn # its templates hard-code the namespace
	printf 'apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: %s, namespace: %s}\n' "$c" "$ns" >"$work/shared/$c/.cozyhr.yaml"
done
if compgen -G "$work/shared/*" >/dev/null; then
	echo "| chart | cozyhr diff | requests |"
	echo "|---|---|---|"
	slowest=0 sum=0
	for dir in "$work"/shared/*; do
		r=$(m -n "$RUNS" -kubeconfig "$KUBECONFIG" -- "$cozyhr" -C "$dir" diff)
		s=$(field median_s "$r")
		slowest=$(awk -v a="$s" -v b="$slowest" 'BEGIN { print (a > b) ? a : b }')
		sum=$(awk -v a="$s" -v b="$sum" 'BEGIN { print a + b }')
		printf '| %s | %s ms, %s MB | %s |\n' "$(basename "$dir")" "$(ms "$s")" "$(mb "$(field max_rss_kb "$r")")" "$(round "$(field requests_per_run "$r")")"
	done
	r=$(m -n "$RUNS" -kubeconfig "$KUBECONFIG" -- "$cozyhr" diff -R "$work/shared")
	s=$(field median_s "$r")
	printf '| **all four, one run (`diff -R`)** | %s ms, %s MB | %s |\n' "$(ms "$s")" "$(mb "$(field max_rss_kb "$r")")" "$(round "$(field requests_per_run "$r")")"
	echo
	# The ideal schedule on this machine's cores: the slowest chart, or all
	# of them spread evenly over the cores, whichever is longer.
	cores=$(nproc)
	ideal=$(awk -v a="$slowest" -v b="$sum" -v c="$cores" 'BEGIN { i = b / c; print (a > i) ? a : i }')
	echo "One run / slowest single chart: $(awk -v a="$s" -v b="$slowest" 'BEGIN { printf "%.2f", a / b }'); one run / ideal schedule (max(slowest, sum $(ms "$sum") ms / $cores cores) = $(ms "$ideal") ms): $(awk -v a="$s" -v b="$ideal" 'BEGIN { printf "%.2f", a / b }') (goal: at most 1.15)."
	echo
fi
[[ -n ${ONLY_SHARED:-} ]] && exit 0

# 2. The generated monorepo.
"$work/genchart" -repo "$work/mono" "$COUNT"
objects=$(cat "$work"/mono/packages/*/*/values.yaml | awk '/^(configMaps|deployments|services):/ { n += $2 } END { print n }')
"$cozyhr" apply -R "$work/mono" >/dev/null 2>&1
charts=("$work"/mono/packages/*/*)

one=$(m -n "$RUNS" -kubeconfig "$KUBECONFIG" -- "$cozyhr" diff -R "$work/mono")
one_c1=$(m -n 3 -kubeconfig "$KUBECONFIG" -- "$cozyhr" diff -R "$work/mono" --concurrency 1)
shell_loop=$(m -n 1 -kubeconfig "$KUBECONFIG" -- bash -c 'for d in "$@"; do "'"$cozyhr"'" -C "$d" diff >/dev/null || exit 1; done' _ "${charts[@]}")
helm_loop=$(m -n 1 -kubeconfig "$KUBECONFIG" -- bash -c 'for d in "$@"; do n=$(basename "$d"); "'"$helm"'" upgrade "$n" "$d" -n "bench-$n" --dry-run=server >/dev/null || exit 1; done' _ "${charts[@]}")

echo "| $COUNT charts, $objects objects, nothing to change | wall time | peak memory | API requests |"
echo "|---|---|---|---|"
printf '| `cozyhr diff -R` (concurrency %s) | %s ms | %s MB | %s |\n' "$(nproc)" "$(ms "$(field median_s "$one")")" "$(mb "$(field max_rss_kb "$one")")" "$(round "$(field requests_per_run "$one")")"
printf '| `cozyhr diff -R --concurrency 1` | %s ms | %s MB | %s |\n' "$(ms "$(field median_s "$one_c1")")" "$(mb "$(field max_rss_kb "$one_c1")")" "$(round "$(field requests_per_run "$one_c1")")"
printf '| shell loop of `cozyhr -C DIR diff` | %s ms | %s MB (each) | %s |\n' "$(ms "$(field median_s "$shell_loop")")" "$(mb "$(field max_rss_kb "$shell_loop")")" "$(round "$(field requests_per_run "$shell_loop")")"
printf '| shell loop of `helm upgrade --dry-run=server` | %s ms | %s MB (each) | %s |\n' "$(ms "$(field median_s "$helm_loop")")" "$(mb "$(field max_rss_kb "$helm_loop")")" "$(round "$(field requests_per_run "$helm_loop")")"
echo
# The single runs together are the shell loop; spread over the cores, that
# is the ideal schedule here (the slowest single chart is far shorter).
loop_s=$(field median_s "$shell_loop")
echo "One run / ideal schedule (the shell loop's $(ms "$loop_s") ms / $(nproc) cores): $(awk -v a="$(field median_s "$one")" -v b="$loop_s" -v c="$(nproc)" 'BEGIN { printf "%.2f", a / (b / c) }') (goal: at most 1.15)."
echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(go version | cut -d' ' -f3), kube-apiserver v1.37.2 (envtest, local etcd); medians of $RUNS runs (3 with --concurrency 1, 1 for the loops)."
