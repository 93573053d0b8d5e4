#!/usr/bin/env bash
# make bench: cozyhr against helm v3.22.0 on the same charts and the same
# local kube-apiserver, side by side. Prints a Markdown table; see
# docs/performance.md for results and how to read them.
#
#   bench/run.sh [N_OBJECTS]     (default 5000 for the generated chart)
set -euo pipefail
cd "$(dirname "$0")/.."
N_OBJECTS=${1:-5000}
RUNS=${RUNS:-5}
HELM_VERSION=v3.22.0
CACHE=${COZYHR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cozyhr}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# shellcheck source=bench/common.sh
. bench/common.sh

"$work/genchart" "$work/generated" "$N_OBJECTS"
charts=()
# ingress-nginx creates cert-manager Certificates, so it runs before
# cert-manager: the API server must never call cert-manager's webhook (at a
# ClusterIP, off this machine's loopback). Every chart is uninstalled after
# its measurements for the same reason.
for c in ingress-nginx cert-manager kubeovn metallb; do
	[[ -d ../shared/charts/$c ]] && charts+=("../shared/charts/$c")
done
charts+=("$work/generated")

m() { "$measure" "$@"; }
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
round() { awk -v n="$1" 'BEGIN { printf "%.0f", n }'; }

echo "| chart | objects | helm template | cozyhr show | ratio | helm upgrade | cozyhr apply | ratio | cozyhr diff | requests | diff --server-side | requests |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for dir in "${charts[@]}"; do
	name=$(basename "$dir")
	ns=bench-$name
	[[ $name == kubeovn ]] && ns=cozy-kubeovn # its templates hard-code the namespace
	cfg=$work/$name.cozyhr.yaml
	printf 'apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: %s, namespace: %s}\n' "$name" "$ns" >"$cfg"
	c=("$cozyhr" -C "$dir" --config "$cfg")
	objects=$("${c[@]}" show --offline 2>/dev/null | grep -c '^kind:' || true)

	ht=$(m -n "$RUNS" -- "$helm" template "$name" "$dir" -n "$ns" --include-crds)
	cs=$(m -n "$RUNS" -- "${c[@]}" show --offline)
	m -n 1 -- "${c[@]}" apply --disable-hooks --timeout 10m >/dev/null
	upruns=$(( RUNS > 3 ? 3 : RUNS ))
	hu=$(m -n "$upruns" -- "$helm" upgrade --install "$name" "$dir" -n "$ns" --no-hooks --history-max 5 --timeout 10m)
	ca=$(m -n "$upruns" -- "${c[@]}" apply --disable-hooks --timeout 10m)
	cd_=$(m -n "$RUNS" -kubeconfig "$KUBECONFIG" -- "${c[@]}" diff)
	cdss=$(m -n "$upruns" -kubeconfig "$KUBECONFIG" -- "${c[@]}" diff --server-side)

	"${c[@]}" delete --disable-hooks >/dev/null

	printf '| %s | %s | %s ms, %s MB | %s ms, %s MB | %s | %s ms, %s MB | %s ms, %s MB | %s | %s ms, %s MB | %s | %s ms | %s |\n' \
		"$name" "$objects" \
		"$(ms "$(field median_s "$ht")")" "$(mb "$(field max_rss_kb "$ht")")" \
		"$(ms "$(field median_s "$cs")")" "$(mb "$(field max_rss_kb "$cs")")" \
		"$(ratio "$(field median_s "$cs")" "$(field median_s "$ht")")" \
		"$(ms "$(field median_s "$hu")")" "$(mb "$(field max_rss_kb "$hu")")" \
		"$(ms "$(field median_s "$ca")")" "$(mb "$(field max_rss_kb "$ca")")" \
		"$(ratio "$(field median_s "$ca")" "$(field median_s "$hu")")" \
		"$(ms "$(field median_s "$cd_")")" "$(mb "$(field max_rss_kb "$cd_")")" \
		"$(round "$(field requests_per_run "$cd_")")" \
		"$(ms "$(field median_s "$cdss")")" "$(round "$(field requests_per_run "$cdss")")"
done
echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(go version | cut -d' ' -f3), kube-apiserver v1.37.2 (envtest, local etcd); medians of $RUNS runs ($(( RUNS > 3 ? 3 : RUNS )) for upgrades and server-side diffs)."
