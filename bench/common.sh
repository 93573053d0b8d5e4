# Sourced by bench/run.sh and bench/many.sh: builds (once) and caches helm
# $HELM_VERSION, starts the local cluster (hack/devcluster.sh), builds
# cozyhr and the bench tools into $work, and installs what the shared
# charts expect of a real cluster.
helm=$CACHE/bin/helm-$HELM_VERSION
if [[ ! -x $helm ]]; then
	echo "bench: building helm $HELM_VERSION with go install (once)" >&2
	tmp=$(mktemp -d)
	GOBIN=$tmp go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
	mkdir -p "$CACHE/bin" && mv "$tmp/helm" "$helm" && rm -rf "$tmp"
fi

# shellcheck source=hack/devcluster.sh
. hack/devcluster.sh

go build -trimpath -ldflags "-s -w" -o "$work/cozyhr" ./cmd/cozyhr
go build -o "$work/measure" ./bench/measure
go build -o "$work/genchart" ./bench/genchart
cozyhr=$work/cozyhr measure=$work/measure

export HELM_CACHE_HOME=$work/helm-cache HELM_CONFIG_HOME=$work/helm-config HELM_DATA_HOME=$work/helm-data

# What the shared charts expect of a real cluster: a control-plane Node with
# an address (kubeovn looks it up) and cert-manager's CRDs (ingress-nginx).
mkdir -p "$work/prereqs/templates"
printf 'apiVersion: v2\nname: prereqs\nversion: 0.1.0\n' >"$work/prereqs/Chart.yaml"
cat >"$work/prereqs/templates/prereqs.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: control-plane-0
  labels: {node-role.kubernetes.io/control-plane: ""}
status:
  addresses: [{type: InternalIP, address: 192.0.2.10}]
{{- range $kind := list "Certificate" "Issuer" }}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {{ lower $kind }}s.cert-manager.io
spec:
  group: cert-manager.io
  names: {kind: {{ $kind }}, plural: {{ lower $kind }}s, listKind: {{ $kind }}List, singular: {{ lower $kind }}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
{{- end }}
YAML
"$helm" install prereqs "$work/prereqs" -n default >/dev/null
