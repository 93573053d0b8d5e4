#!/usr/bin/env bash
# make bench-review: diff --base between two git revisions, no cluster.
#
# 1. A generated repository of COUNT charts (default 100, genchart -repo)
#    with one chart changed: `diff --base HEAD -R packages` renders only
#    that chart (goal: at most 0.5 s).
# 2. The same repository with every chart changed (a comment added to
#    each Chart.yaml): the whole tree rendered at both revisions, beside one
#    `show -R packages --offline` of it (goal: at most 2x).
# 3. The same over the four shared charts.
# Medians of RUNS runs (default 5), peak memory from getrusage.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-100} RUNS=${RUNS:-5}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/cozyhr" ./cmd/cozyhr
go build -o "$work/measure" ./bench/measure
go build -o "$work/genchart" ./bench/genchart
m() { "$work/measure" -n "$RUNS" -ok-exit 0,2 -- "$@"; }
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$2"; }
ms() { awk -v s="$(field median_s "$1")" 'BEGIN { printf "%.0f", s * 1000 }'; }
mb() { awk -v k="$(field max_rss_kb "$1")" 'BEGIN { printf "%.0f", k / 1024 }'; }
ratio() { awk -v a="$(field median_s "$1")" -v b="$(field median_s "$2")" 'BEGIN { printf "%.2f", a / b }'; }
repo() { # repo DIR: commit what is there
	git -C "$1" init -q -b main
	git -C "$1" -c user.name=bench -c user.email=bench@example.com add -A
	git -C "$1" -c user.name=bench -c user.email=bench@example.com commit -qm base
}
touch_all() { # touch_all DIR: a comment in every Chart.yaml below DIR
	find "$1" -name Chart.yaml -not -path '*/charts/*/*' -exec sh -c 'echo "# reviewed" >>"$1"' _ {} \;
}

"$work/genchart" -repo "$work/mono" "$COUNT" >/dev/null
repo "$work/mono"
one=$(find "$work/mono/packages" -mindepth 2 -maxdepth 2 -type d | sort | sed -n 43p)
sed -i 's/^version: 0.1.0$/version: 0.1.1/' "$one/Chart.yaml"
cd "$work/mono"
changed=$(m "$work/cozyhr" diff --base HEAD -R packages)
touch_all packages
full=$(m "$work/cozyhr" diff --base HEAD -R packages)
show=$(m "$work/cozyhr" show -R packages --offline)
cd - >/dev/null

mkdir -p "$work/shared"
for c in ingress-nginx cert-manager kubeovn metallb; do
	[[ -d ../shared/charts/$c ]] || continue
	cp -r "../shared/charts/$c" "$work/shared/$c"
	printf 'apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: %s, namespace: cozy-%s}\n' "$c" "$c" >"$work/shared/$c/.cozyhr.yaml"
done
shared_rows=""
if [[ -d $work/shared/metallb ]]; then
	repo "$work/shared"
	touch_all "$work/shared"
	cd "$work/shared"
	sfull=$(m "$work/cozyhr" diff --base HEAD -R .)
	sshow=$(m "$work/cozyhr" show -R . --offline)
	cd - >/dev/null
	shared_rows="| the 4 shared charts, all changed: \`diff --base HEAD -R .\` | $(ms "$sfull") ms, $(mb "$sfull") MB | \`show -R . --offline\`: $(ms "$sshow") ms, $(mb "$sshow") MB | $(ratio "$sfull" "$sshow") |"
fi

echo "| run | cozyhr diff --base | beside | ratio |"
echo "|---|---|---|---|"
echo "| $COUNT charts, 1 changed: \`diff --base HEAD -R packages\` | $(ms "$changed") ms, $(mb "$changed") MB | goal 500 ms | |"
echo "| $COUNT charts, all changed: \`diff --base HEAD -R packages\` | $(ms "$full") ms, $(mb "$full") MB | \`show -R packages --offline\`: $(ms "$show") ms, $(mb "$show") MB | $(ratio "$full" "$show") |"
[[ -n $shared_rows ]] && echo "$shared_rows"
