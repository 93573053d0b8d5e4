package seeded

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	bcryptlib "golang.org/x/crypto/bcrypt"
)

// helmOwn are the functions Helm's engine adds to sprig's (helm.sh/helm/v4
// pkg/engine funcs.go).
var helmOwn = []string{"toToml", "mustToToml", "fromToml", "toYaml", "mustToYaml", "toYamlPretty", "fromYaml", "fromYamlArray",
	"toJson", "mustToJson", "fromJson", "fromJsonArray", "include", "tpl", "required", "lookup"}

// notCalled are functions no render here can call twice alike for reasons
// other than randomness, and why.
var notCalled = map[string]string{
	"env": "Helm removes it", "expandenv": "Helm removes it",
	"include": "the engine's own, rendering a named template", "tpl": "the engine's own", "required": "the engine's own",
	"lookup":        "reads the cluster; offline it returns nothing, the same on both sides",
	"getHostByName": "resolves a name through DNS: what the network says, not chance",
	"fail":          "always fails",
}

// special are the arguments of the functions that need particular ones;
// the others get arguments of their parameters' types (argument).
var special = map[string]string{
	"genSignedCert":            `"svc" (list "10.0.0.1") (list "svc.local") 365 (genCA "ca" 365)`,
	"genSignedCertWithKey":     `"svc" (list "10.0.0.1") (list "svc.local") 365 (genCA "ca" 365) (genPrivateKey "ecdsa")`,
	"genCAWithKey":             `"ca" 365 (genPrivateKey "ecdsa")`,
	"genSelfSignedCertWithKey": `"svc" (list "10.0.0.1") (list "svc.local") 365 (genPrivateKey "ecdsa")`,
	"genPrivateKey":            `"ecdsa"`,
	"buildCustomCert":          `"" ""`,
	"randInt":                  `1 1000000`,
	"htpasswd":                 `"user" "pass"`,
}

func argument(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return `"a,b c"`
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "16"
	case reflect.Float32, reflect.Float64:
		return "1.5"
	case reflect.Bool:
		return "true"
	case reflect.Slice:
		return `(list "b" "a" "c")`
	case reflect.Map:
		return `(dict "a" "b")`
	}
	if t == reflect.TypeFor[time.Time]() {
		return "now"
	}
	return `"x"`
}

// Every function of Helm's and sprig's function map gives the same output
// twice when seeded: a random one that is not seeded (as htpasswd was) is
// noise in every review. A function added to sprig is called here too, and
// fails the test if it draws on chance.
func TestEverySeededFunctionRendersTheSameTwice(t *testing.T) {
	base := sprig.TxtFuncMap()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range base {
			if !yield(n) {
				return
			}
		}
	})
	names = slices.Compact(slices.Sorted(slices.Values(append(names, helmOwn...))))
	render := func(expr string) string {
		tmpl, err := template.New("").Funcs(base).Funcs(Funcs("chart")).Parse("{{ " + expr + " }}")
		if err != nil {
			return "parse: " + err.Error()
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, nil); err != nil {
			return "error: " + err.Error()
		}
		return b.String()
	}
	called := 0
	for _, name := range names {
		if _, skip := notCalled[name]; skip {
			continue
		}
		fn, ok := base[name]
		if !ok {
			continue // a Helm function is deterministic (toYaml and friends)
		}
		args, ok := special[name]
		if !ok {
			ft := reflect.TypeOf(fn)
			var as []string
			for i := range ft.NumIn() {
				in := ft.In(i)
				if ft.IsVariadic() && i == ft.NumIn()-1 {
					in = in.Elem()
				}
				as = append(as, argument(in))
			}
			args = strings.Join(as, " ")
		}
		expr := strings.TrimSpace(name + " " + args)
		first, second := render(expr), render(expr)
		if first != second {
			t.Errorf("{{ %s }} renders differently twice, seeded: %.80q then %.80q: seed it in package seeded", expr, first, second)
		}
		called++
	}
	if called < 150 {
		t.Errorf("only %d functions called", called)
	}
}

// The seeded secrets are what sprig's would be with that salt or IV: a
// bcrypt hash verifies the password, a ciphertext decrypts with sprig's
// decryptAES, a shuffle keeps the letters.
func TestSeededSecretsWork(t *testing.T) {
	funcs := Funcs("c")
	for _, out := range []string{funcs["bcrypt"].(func(string) string)("s3cret"), strings.TrimPrefix(funcs["htpasswd"].(func(string, string) string)("user", "s3cret"), "user:")} {
		if err := bcryptlib.CompareHashAndPassword([]byte(out), []byte("s3cret")); err != nil {
			t.Errorf("%s does not verify: %v", out, err)
		}
	}
	enc, err := funcs["encryptAES"].(func(string, string) (string, error))("key", "plain text")
	if err != nil {
		t.Fatal(err)
	}
	dec, err := sprig.TxtFuncMap()["decryptAES"].(func(string, string) (string, error))("key", enc)
	if err != nil || dec != "plain text" {
		t.Errorf("decryptAES of the seeded ciphertext: %q, %v", dec, err)
	}
	if s := funcs["shuffle"].(func(string) string)("abcdef"); len(s) != 6 || !strings.ContainsAny(s, "abcdef") {
		t.Errorf("shuffle: %q", s)
	}
	if got := fmt.Sprint(funcs["ago"].(func(any) string)(time.Date(1999, 12, 31, 23, 0, 0, 0, time.UTC))); got != "1h0m0s" {
		t.Errorf("ago: %s", got)
	}
}
