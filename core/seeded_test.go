package core

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cozyhr/cozyhr/config"
)

// Seeded random functions give the same output for the same chart and
// call, run after run, and differ from call to call.
func TestDeterministicRendersAreStable(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: r\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "s.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\ndata:\n  a: {{ randAlphaNum 16 }}\n  b: {{ randAlphaNum 16 }}\n  u: {{ uuidv4 }}\n  t: {{ now | date \"2006\" }}\n"+certTemplate), 0o644)
	render := func(deterministic bool) string {
		t.Helper()
		cfg, err := config.Load(config.LoadOptions{Dir: dir, Overrides: map[string]any{"helmRelease.enabled": false, "release.namespace": "r"}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := (&Workspace{Config: cfg}).Desired(t.Context(), RenderOptions{Deterministic: deterministic}, nil)
		if err != nil {
			t.Fatal(err)
		}
		data := d.Rendered.Manifests[0].Object["data"].(map[string]any)
		if data["a"] == data["b"] {
			t.Errorf("two calls gave the same value: %v", data)
		}
		return string(mustText(t, d))
	}
	one, two := render(true), render(true)
	if one != two {
		t.Errorf("two deterministic renders differ:\n%s\n%s", one, two)
	}
	if one == render(false) {
		t.Errorf("a render without it is seeded too:\n%s", one)
	}
}

// Keys and certificates the template generates, seeded with the rest; the
// signed certificate verifies against the generated CA.
const certTemplate = `{{- $ca := genCA "ca" 365 }}
{{- $cert := genSignedCert "svc" (list "10.0.0.1") (list "svc.local") 30 $ca }}
  ca: {{ $ca.Cert | b64enc }}
  crt: {{ $cert.Cert | b64enc }}
  key: {{ $cert.Key | b64enc }}
  self: {{ (genSelfSignedCert "self" nil nil 1).Cert | b64enc }}
  ec: {{ genPrivateKey "ecdsa" | b64enc }}
  ed: {{ genPrivateKey "ed25519" | b64enc }}
`

func mustText(t *testing.T, d *Desired) []byte {
	t.Helper()
	text, err := d.Rendered.Manifests[0].Text()
	if err != nil {
		t.Fatal(err)
	}
	return text
}
