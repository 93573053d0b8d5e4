#!/usr/bin/env bash
# The server-side diff beside the default one on a generated chart of
# $OBJECTS objects (default 1000), installed into the local cluster: wall
# time of each, medians of $RUNS runs (default 3), twice: with nothing to
# change, and with every object changed (a label or field each), where the
# server-side diff dry-runs every object. make bench-serverside.
set -euo pipefail
cd "$(dirname "$0")/.."
OBJECTS=${OBJECTS:-1000} RUNS=${RUNS:-3}
# shellcheck source=hack/devcluster.sh
. hack/devcluster.sh
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/cozyhr" ./cmd/cozyhr
go build -o "$work/genchart" ./bench/genchart
"$work/genchart" "$work/chart" "$OBJECTS" >/dev/null
"$work/cozyhr" -C "$work/chart" -n gen apply --plain >/dev/null 2>&1
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for change in "nothing changed" "every object changed"; do
	set=()
	[[ $change == every* ]] && set=(--set app=changed --set color=red)
	for mode in default --server-side; do
		flag=${mode#default}
		for _ in $(seq "$RUNS"); do
			s=$(date +%s%N)
			"$work/cozyhr" -C "$work/chart" -n gen diff --plain $flag "${set[@]}" >/dev/null 2>&1
			echo $(( ($(date +%s%N) - s) / 1000000 ))
		done | median | xargs printf "%-20s diff %-13s %s objects: %s ms\n" "$change" "$mode" "$OBJECTS"
	done
done
