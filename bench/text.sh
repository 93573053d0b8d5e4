#!/usr/bin/env bash
# make bench-text: a review of many changed 2.5 kB text values, every output
# format, no cluster. A chart renders COUNTS ConfigMaps (default "1000
# 4000"), each with a 2.5 kB text value; the commit under review changes
# every value, either in each of its 40 lines ("lines") or in the middle of
# one long line ("one line"). `diff --base HEAD -R chart -o FORMAT` is
# measured for json, unified, the human report and markdown; the goal is
# human and markdown at most 1.5x json, and time linear in the count.
# Medians of RUNS runs (default 3), peak memory from getrusage.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTS=${COUNTS:-"1000 4000"} RUNS=${RUNS:-3}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/cozyhr" ./cmd/cozyhr
go build -o "$work/measure" ./bench/measure
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$2"; }
ms() { awk -v s="$(field median_s "$1")" 'BEGIN { printf "%.0f", s * 1000 }'; }
mb() { awk -v k="$(field max_rss_kb "$1")" 'BEGIN { printf "%.0f", k / 1024 }'; }
ratio() { awk -v a="$(field median_s "$1")" -v b="$(field median_s "$2")" 'BEGIN { printf "%.2f", a / b }'; }
git_() { git -c user.name=bench -c user.email=bench@example.com "$@"; }

chart() { # chart DIR SHAPE COUNT: a repository whose working tree changes every value
	mkdir -p "$1/c/templates"
	printf 'apiVersion: v2\nname: text\nversion: 0.1.0\n' >"$1/c/Chart.yaml"
	printf 'count: %s\ntag: old\n' "$3" >"$1/c/values.yaml"
	printf 'apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: text, namespace: text}\n' >"$1/c/.cozyhr.yaml"
	if [[ $2 == lines ]]; then
		cat >"$1/c/templates/cm.yaml" <<'T'
{{- range $i, $e := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
data:
  text: |
{{- range $j, $f := until 40 }}
    line {{ $j }} of object {{ $i }} with filler to reach sixty chars {{ $.Values.tag }}
{{- end }}
{{- end }}
T
	else
		cat >"$1/c/templates/cm.yaml" <<'T'
{{- range $i, $e := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
data:
  text: {{ printf "%s-%d-%s-%s" (repeat 34 "abcdefghijklmnopqrstuvwxyz0123456789 ") $i $.Values.tag (repeat 300 " zyx") | quote }}
{{- end }}
T
	fi
	git_ -C "$1" init -q -b main
	git_ -C "$1" add -A
	git_ -C "$1" commit -qm base
	sed -i 's/^tag: old$/tag: new/' "$1/c/values.yaml"
}

echo "| objects | change | -o json | -o unified | human | human / json | -o markdown | markdown / json |"
echo "|---:|---|---|---|---|---:|---|---:|"
for shape in lines oneline; do
	for count in $COUNTS; do
		dir="$work/$shape-$count"
		chart "$dir" "$shape" "$count"
		cd "$dir"
		declare -A r=()
		for f in json unified human markdown; do
			args=(-o "$f")
			[[ $f == human ]] && args=()
			r[$f]=$("$work/measure" -n "$RUNS" -ok-exit 0,2 -- "$work/cozyhr" diff --base HEAD -R c "${args[@]}")
		done
		cd - >/dev/null
		label="40 lines changed"
		[[ $shape == oneline ]] && label="one long line changed"
		echo "| $count | $label | $(ms "${r[json]}") ms, $(mb "${r[json]}") MB | $(ms "${r[unified]}") ms | $(ms "${r[human]}") ms, $(mb "${r[human]}") MB | $(ratio "${r[human]}" "${r[json]}") | $(ms "${r[markdown]}") ms | $(ratio "${r[markdown]}" "${r[json]}") |"
	done
done
