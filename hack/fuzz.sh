#!/usr/bin/env bash
# Runs each fuzz target for FUZZTIME (default 4000x, an execution count):
# the config loader, the values.yaml editor, ignore-rule pointers, --set
# parsing, the diff's YAML node builder and the object printer. The seed
# corpora (and any failing inputs committed under testdata/fuzz) also run
# as plain tests in every go test. A count, not a duration: Go 1.26's fuzz
# coordinator can fail a duration run with a bare "context deadline
# exceeded" as it ends (golang/go#75804, fixed in 1.27).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-4000x}
export GOTOOLCHAIN=local
for target in ./config:FuzzLoad ./core/upstream:FuzzEditYAML ./core/normalize:FuzzParseIgnoreRule ./core/values:FuzzSetValues ./core/manifest:FuzzYAMLDocument ./core/manifest:FuzzYAML; do
	pkg=${target%%:*} name=${target##*:}
	echo "fuzz: $name ($pkg) for $FUZZTIME"
	go test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME"
done
