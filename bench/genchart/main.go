// Command genchart writes a chart that renders N objects of several kinds
// (ConfigMaps, Deployments, Services, and custom resources of a CRD the
// chart ships), for benchmarks; or, with -repo, a monorepo of COUNT such
// charts of 20 to 60 objects each (core kinds only), each with its own
// .cozyhr.yaml and namespace, as Cozystack lays out packages/.
//
//	genchart DIR N
//	genchart -repo DIR COUNT
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genchart:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) == 4 && os.Args[1] == "-repo" {
		count, err := strconv.Atoi(os.Args[3])
		if err != nil || count < 1 {
			return fmt.Errorf("COUNT must be a positive number")
		}
		return writeRepo(os.Args[2], count)
	}
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: genchart DIR N, or genchart -repo DIR COUNT")
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 5 {
		return fmt.Errorf("N must be a number of at least 5")
	}
	// 40% ConfigMaps, 20% Deployments, 20% Services, 20% custom resources.
	cms, deps, svcs := n*2/5, n/5, n/5
	return writeChart(os.Args[1], "generated", cms, deps, svcs, n-cms-deps-svcs, nil)
}

// writeRepo writes count charts under dir/packages/{system,apps}.
func writeRepo(dir string, count int) error {
	for i := range count {
		group := "apps"
		if i%2 == 0 {
			group = "system"
		}
		name := fmt.Sprintf("chart-%03d", i)
		n := 20 + (i*37)%41 // 20 to 60 objects, spread evenly
		cms, deps := n/2, n/4
		extra := map[string]string{".cozyhr.yaml": fmt.Sprintf("apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: %s, namespace: bench-%s}\nlabels: {group: %s}\n", name, name, group)}
		if err := writeChart(filepath.Join(dir, "packages", group, name), name, cms, deps, n-cms-deps, 0, extra); err != nil {
			return err
		}
	}
	return nil
}

// writeChart writes a chart with the given numbers of each kind; without
// custom resources it ships no CRD.
func writeChart(dir, name string, cms, deps, svcs, crs int, extra map[string]string) error {
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
		"values.yaml": fmt.Sprintf("configMaps: %d\ndeployments: %d\nservices: %d\ngizmos: %d\nimage: nginx:1.27\nreplicas: 1\napp: generated\ncolor: blue\n", cms, deps, svcs, crs),
		"crds/gizmos.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.bench.cozyhr.io
spec:
  group: bench.cozyhr.io
  names: {kind: Gizmo, listKind: GizmoList, plural: gizmos, singular: gizmo}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
                color: {type: string}
`,
		"templates/configmaps.yaml": `{{- range $i := until (int .Values.configMaps) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
  labels: {app: {{ $.Values.app }}, index: "{{ $i }}"}
data:
  index: "{{ $i }}"
  config.yaml: |
    name: cm-{{ $i }}
    enabled: true
{{- end }}
`,
		"templates/deployments.yaml": `{{- range $i := until (int .Values.deployments) }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{{ $i }}
  labels: {app: {{ $.Values.app }}}
spec:
  replicas: {{ $.Values.replicas }}
  selector:
    matchLabels: {app: web-{{ $i }}}
  template:
    metadata:
      labels: {app: web-{{ $i }}}
    spec:
      containers:
        - name: web
          image: {{ $.Values.image }}
          ports: [{containerPort: 80, name: http}]
          resources:
            requests: {cpu: 10m, memory: 16Mi}
{{- end }}
`,
		"templates/services.yaml": `{{- range $i := until (int .Values.services) }}
---
apiVersion: v1
kind: Service
metadata:
  name: web-{{ $i }}
  labels: {app: {{ $.Values.app }}}
spec:
  # Headless: a local test apiserver has a /24 service range, too small
  # for thousands of ClusterIPs.
  clusterIP: None
  selector: {app: web-{{ $i }}}
  ports: [{name: http, port: 80, targetPort: http}]
{{- end }}
`,
		"templates/gizmos.yaml": `{{- range $i := until (int .Values.gizmos) }}
---
apiVersion: bench.cozyhr.io/v1
kind: Gizmo
metadata:
  name: gizmo-{{ $i }}
spec:
  size: {{ $i }}
  color: {{ $.Values.color }}
{{- end }}
`,
	}
	if crs == 0 {
		delete(files, "crds/gizmos.yaml")
		delete(files, "templates/gizmos.yaml")
	}
	for name, content := range extra {
		files[name] = content
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
