#!/usr/bin/env bash
# Installs the system tools the update and image tests drive, when missing:
# GNU patch (cozyhr update applies patches with it) and buildah (the
# daemonless image builder). It installs with apt-get only as root on
# Debian; elsewhere it says what is missing and the tests that need a tool
# skip cleanly.
set -uo pipefail

missing=()
command -v patch >/dev/null || missing+=(patch)
command -v buildah >/dev/null || missing+=(buildah)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
	echo "tools: installing ${missing[*]} with apt-get (once)" >&2
	if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; }; then
		exit 0
	fi
	echo "tools: apt-get install ${missing[*]} failed" >&2
fi
echo "tools: ${missing[*]} missing; the tests that need them skip (install: apt-get install ${missing[*]})" >&2
exit 0
