#!/usr/bin/env bash
# Runs each fuzz target for FUZZTIME (default 5s): the config loader, the
# values.yaml editor, ignore-rule pointers and --set parsing. The seed
# corpora (and any failing inputs committed under testdata/fuzz) also run
# as plain tests in every go test.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-5s}
export GOTOOLCHAIN=local
for target in ./config:FuzzLoad ./core:FuzzEditYAML ./core:FuzzParseIgnoreFlag ./core:FuzzSetValues; do
	pkg=${target%%:*} name=${target##*:}
	echo "fuzz: $name ($pkg) for $FUZZTIME"
	go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME"
done
