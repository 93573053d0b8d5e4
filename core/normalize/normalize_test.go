package normalize

import (
	"reflect"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	sigsyaml "sigs.k8s.io/yaml"
)

func obj(t *testing.T, y string) map[string]any {
	t.Helper()
	data, err := sigsyaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := utiljson.Unmarshal(data, &m); err != nil { // int64 numbers, as from the API
		t.Fatal(err)
	}
	return m
}

func TestNormalizeLiveKeepsWhatHelmWouldTouch(t *testing.T) {
	live := obj(t, `
apiVersion: v1
kind: Service
metadata:
  name: web
  uid: 123
  resourceVersion: "9"
  annotations: {meta.helm.sh/release-name: web, team: a}
  labels: {app: web, edited: by-hand}
spec:
  clusterIP: 10.0.0.1
  ports: [{port: 80, protocol: TCP, targetPort: 80}]
  selector: {app: web}
  oldField: x
status: {loadBalancer: {}}
`)
	desired := obj(t, "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {app: web}}\nspec: {ports: [{port: 80}], selector: {app: web}}\n")
	previous := obj(t, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {oldField: x}\n")
	got := Live(live, desired, previous)
	want := obj(t, "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {app: web}}\nspec: {ports: [{port: 80}], selector: {app: web}, oldField: x}\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Live:\n got %v\nwant %v", got, want)
	}
}

func TestNormalizeDesiredMatchesWhatTheServerStores(t *testing.T) {
	cases := []struct{ name, desired, live, previous, want string }{
		{"zero values the server omits", "spec: {minReadySeconds: 0, paused: false, replicas: 1}", "spec: {replicas: 1}", "", "spec: {replicas: 1}"},
		{"quantities compare by value", "spec: {resources: {limits: {memory: 2048Mi, cpu: 1}}}", "spec: {resources: {limits: {memory: 2Gi, cpu: '1'}}}", "", "spec: {resources: {limits: {memory: 2Gi, cpu: '1'}}}"},
		{"quantity-looking data stays a change", "data: {v: '1.0'}", "data: {v: '1'}", "", "data: {v: '1.0'}"},
		{"empty list stored as null", "rules: []", "rules: null", "", "rules: null"},
		{"empty map omitted", "spec: {selector: {}}", "spec: {}", "", "spec: {}"},
		{"nulls dropped", "spec: {a: null, b: 1}", "spec: {b: 1}", "", "spec: {b: 1}"},
		{"field pruned by the server", "spec: {schema: {min: 1, type: integer}}", "spec: {schema: {type: integer}}", "spec: {schema: {min: 1, type: integer}}", "spec: {schema: {type: integer}}"},
		{"a null the server kept", "spec: {a: null, b: 1}", "spec: {a: null, b: 1}", "", "spec: {a: null, b: 1}"},
		{"status is the server's on both sides", "metadata: {name: a}\nstatus: {acceptedNames: {kind: ''}}", "metadata: {name: a}\nstatus: {acceptedNames: {kind: A}}", "", "metadata: {name: a}"},
		{"Helm's ownership label whatever the template says", "metadata: {labels: {app.kubernetes.io/managed-by: cdi-operator}}", "metadata: {labels: {app.kubernetes.io/managed-by: Helm}}", "", "metadata: {labels: {app.kubernetes.io/managed-by: Helm}}"},
		{"Helm's ownership annotations written by the chart itself", "metadata: {name: a, annotations: {meta.helm.sh/release-name: r, keep: x}}", "metadata: {name: a, annotations: {meta.helm.sh/release-name: r, keep: x}}", "", "metadata: {name: a, annotations: {keep: x}}"},
		{"empty annotations beside Helm's", "metadata: {name: a, annotations: {}}", "metadata: {name: a, annotations: {meta.helm.sh/release-name: r}}", "", "metadata: {name: a}"},
		{"labels removed by hand still show", "metadata: {labels: {a: b}}", "metadata: {}", "metadata: {labels: {a: b}}", "metadata: {labels: {a: b}}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var prev map[string]any
			if c.previous != "" {
				prev = obj(t, c.previous)
			}
			got := Desired(obj(t, c.desired), obj(t, c.live), prev)
			if want := obj(t, c.want); !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestStringDataFoldsIntoData(t *testing.T) {
	s := obj(t, "kind: Secret\napiVersion: v1\nstringData: {password: s3cret}\n")
	got := Desired(s, obj(t, "data: {password: czNjcmV0}"), nil)
	if got["data"].(map[string]any)["password"] != "czNjcmV0" || got["stringData"] != nil {
		t.Errorf("stringData not folded: %v", got)
	}
}
