package review_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cozyhr/cozyhr/test/testgit"
)

// repo is a git repository the test writes and commits to.
type repo = testgit.Repo

func newRepo(t testing.TB) *repo { return testgit.New(t) }

// chart is a small chart's files under dir: a ConfigMap whose data comes
// from the values, and a random value that only seeding keeps stable.
func chart(dir, greeting string) map[string]string {
	return map[string]string{
		dir + "/Chart.yaml":  "apiVersion: v2\nname: " + filepath.Base(dir) + "\nversion: 0.1.0\n",
		dir + "/values.yaml": "greeting: " + greeting + "\nreplicas: 1\n",
		dir + "/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-greeting
data:
  greeting: {{ .Values.greeting | quote }}
  replicas: {{ .Values.replicas | quote }}
  token: {{ randAlphaNum 16 | quote }}
`,
	}
}

// configured is a .cozyhr.yaml naming the release and, when cases is
// not empty, value cases.
func configured(dir, release, namespace, cases string) map[string]string {
	return map[string]string{dir + "/.cozyhr.yaml": "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: " + release + "\n  namespace: " + namespace + "\n" + cases}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// chdir makes dir the working directory for the test.
func chdir(t testing.TB, dir string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(wd) })
}
