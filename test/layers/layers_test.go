// Package layers_test holds the module's architecture to what
// docs/architecture.md says: imports point one way (downwards), each
// package stays small, and the engine's errors name neither flags nor
// commands. It reads every Go file, whatever operating system it is for.
package layers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cozyhr/cozyhr/"

// root is the module's top, from this package's directory.
const root = "../.."

// layers ranks every package of the module but the tests' and benchmarks'
// own: a package may import only packages of a lower rank. config and the
// plugin SDK are at the bottom, the plugin host above them, then the
// engine's layers, then the command line.
var layers = map[string]int{
	"schemas": 0, "plugins/sdk/proto": 0,
	"plugins/sdk": 1, "config": 1,
	"plugins/host": 2, "plugins/examples/add-labels": 2, "plugins/examples/layer-builder": 2,
	"core/iox": 3, "core/manifest": 3, "core/seeded": 3, "core/values": 3, "core/lock": 3, "core/batch": 3,
	"core/buildinfo": 3, "core/kube": 4, "core/hooks": 4, "core/postprocess": 4, "core/upstream": 4, "core/normalize": 4, "core/gitrev": 4, "core/hazard": 4, "core/post": 4, "core/snapshot": 4,
	"core/readiness": 5, "core/flux": 5, "core/predict": 5,
	"core": 6, "core/pluginlist": 6,
	"core/fleet": 7, "core/plan": 7,
	"core/review": 8,
	"cmd/output":  9,
	"cmd":         10,
	"cmd/cozyhr":  11,
}

// unranked are trees whose packages exist for the tests and benchmarks.
var unranked = []string{"test", "bench", "hack", "docs", "examples"}

// capped are the packages held to 3,000 lines of non-test code, 600 a
// file: the engine's, the command line's, config and the plugin host.
func capped(pkg string) bool {
	return pkg == "core" || strings.HasPrefix(pkg, "core/") || pkg == "cmd" || pkg == "cmd/output" ||
		pkg == "config" || pkg == "plugins/host" || pkg == "plugins/sdk"
}

// forbidden are imports a package of a kind must not have, and why.
func forbidden(pkg, imp string) string {
	switch {
	case (pkg == "core" || strings.HasPrefix(pkg, "core/")) && (strings.HasPrefix(imp, "github.com/spf13/") || strings.HasPrefix(imp, module+"cmd")):
		return "core knows nothing of the command line"
	case pkg == "config" && (strings.HasPrefix(imp, "k8s.io/") || strings.HasPrefix(imp, "sigs.k8s.io/") ||
		strings.HasPrefix(imp, "github.com/fluxcd/") || strings.HasPrefix(imp, "helm.sh/") || imp == "github.com/spf13/cobra"):
		return "config knows nothing of Kubernetes, Helm or the command line"
	case strings.HasPrefix(pkg, "plugins/sdk") && strings.HasPrefix(imp, module) && !strings.HasPrefix(imp, module+"plugins/sdk"):
		return "a plugin author imports the SDK alone"
	}
	return ""
}

// sources are a package's Go files: every one, tests apart, whatever its
// build constraints (a file for another operating system counts too).
type sources struct {
	files, tests []string
}

// packages are the module's directories that hold Go code, by path from
// the module's top.
func packages(t *testing.T) map[string]*sources {
	t.Helper()
	out := map[string]*sources{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (name == "testdata" || strings.HasPrefix(name, ".") || name == "vendor") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		s := out[pkg]
		if s == nil {
			s = &sources{}
			out[pkg] = s
		}
		if strings.HasSuffix(name, "_test.go") {
			s.tests = append(s.tests, path)
		} else {
			s.files = append(s.files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isUnranked(pkg string) bool {
	for _, u := range unranked {
		if pkg == u || strings.HasPrefix(pkg, u+"/") {
			return true
		}
	}
	return false
}

func TestImportsPointDownwards(t *testing.T) {
	for pkg, src := range packages(t) {
		if isUnranked(pkg) || pkg == "." {
			continue
		}
		rank, ok := layers[pkg]
		if !ok {
			t.Errorf("%s has no layer: add it to the layers table with the rank of what it builds on", pkg)
			continue
		}
		for _, f := range src.files {
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, spec := range file.Imports {
				imp, _ := strconv.Unquote(spec.Path.Value)
				if why := forbidden(pkg, imp); why != "" {
					t.Errorf("%s imports %s: %s", f, imp, why)
				}
				if !strings.HasPrefix(imp, module) {
					continue
				}
				dep := strings.TrimPrefix(imp, module)
				if r, ok := layers[dep]; ok && r >= rank {
					t.Errorf("%s (layer %d) imports %s (layer %d): a package may import only lower layers", f, rank, dep, r)
				}
			}
		}
	}
}

// packageLimit is the most non-test lines a package may have. cmd may
// have 3,200 until its runner (run.go, runner.go, spec.go, selection.go)
// moves to a package of its own; no other package may pass 3,000.
func packageLimit(pkg string) int {
	if pkg == "cmd" {
		return 3200
	}
	return 3000
}

func TestPackagesStaySmall(t *testing.T) {
	for pkg, src := range packages(t) {
		if !capped(pkg) {
			continue
		}
		total := 0
		for _, f := range src.files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n := strings.Count(string(data), "\n")
			total += n
			if n > 600 {
				t.Errorf("%s has %d lines: split it (600 at most for a non-test file)", f, n)
			}
		}
		if limit := packageLimit(pkg); total > limit {
			t.Errorf("package %s has %d lines of non-test code: split it (%d at most)", pkg, total, limit)
		}
	}
}

// The engine's own tests are at least half as long as its code: what it
// does is tested where it is done, not only through the command line.
func TestCoreIsTestedWhereItIs(t *testing.T) {
	code, tests := 0, 0
	for pkg, src := range packages(t) {
		if pkg != "core" && !strings.HasPrefix(pkg, "core/") {
			continue
		}
		code += lines(t, src.files)
		tests += lines(t, src.tests)
	}
	if ratio := float64(tests) / float64(code); ratio < 0.5 {
		t.Errorf("core's tests are %d lines for %d lines of code (%.2f): test the engine next to its code until they are at least half as long", tests, code, ratio)
	}
}

func lines(t *testing.T, files []string) int {
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(data), "\n")
	}
	return n
}

// commands are cozyhr's commands, as an error string would name them.
var commandName = regexp.MustCompile(`\bcozyhr (show|diff|apply|delete|get|list|suspend|resume|reconcile|update|image|completion|version|values|history|events|rollback|unlock|changed|plugins)\b`)

// The engine names no flag and no cozyhr command in its errors, decides
// no exit code and draws no terminal glyph: the command line does.
func TestCoreKnowsNothingOfTheCommandLine(t *testing.T) {
	flag := regexp.MustCompile(`(^|[\s("'])--[a-z][a-z-]+`)
	glyphs := "✔✗◎►"
	for pkg, src := range packages(t) {
		if pkg != "core" && !strings.HasPrefix(pkg, "core/") {
			continue
		}
		for _, f := range src.files {
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if isErrorConstructor(n.Fun) && len(n.Args) > 0 {
						if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							if flag.MatchString(s) {
								t.Errorf("%s: error string %s names a flag: return a typed error and let cmd name it", fset.Position(lit.Pos()), lit.Value)
							}
							if commandName.MatchString(s) {
								t.Errorf("%s: error string %s names a cozyhr command: return a typed error and let cmd name it", fset.Position(lit.Pos()), lit.Value)
							}
						}
					}
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" && sel.Sel.Name == "Exit" {
							t.Errorf("%s: os.Exit: only main decides how the process ends", fset.Position(n.Pos()))
						}
					}
				case *ast.BasicLit:
					if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && strings.ContainsAny(s, glyphs) {
						t.Errorf("%s: terminal glyph in %s: cmd/output draws", fset.Position(n.Pos()), n.Value)
					}
				case *ast.ValueSpec:
					for _, name := range n.Names {
						if strings.HasPrefix(name.Name, "Exit") {
							t.Errorf("%s: %s: exit codes live in cmd", fset.Position(name.Pos()), name.Name)
						}
					}
				case *ast.FuncDecl:
					if n.Recv == nil && strings.HasPrefix(n.Name.Name, "Exit") {
						t.Errorf("%s: %s: exit codes live in cmd", fset.Position(n.Pos()), n.Name.Name)
					}
				}
				return true
			})
		}
	}
}

func isErrorConstructor(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && (x.Name == "fmt" && sel.Sel.Name == "Errorf" || x.Name == "errors" && sel.Sel.Name == "New")
}
