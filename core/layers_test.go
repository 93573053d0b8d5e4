package core_test

import (
	"go/ast"
	"go/build"
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

// layers ranks every package under core/: a package may import only
// packages of a lower rank, so dependencies point one way (downwards).
var layers = map[string]int{
	"core/iox": 0, "core/manifest": 0, "core/seeded": 0, "core/values": 0, "core/lock": 0, "core/batch": 0,
	"core/kube": 1, "core/hooks": 1, "core/postprocess": 1, "core/upstream": 1, "core/normalize": 1, "core/gitrev": 1,
	"core/readiness": 2, "core/flux": 2,
	"core":        3,
	"core/review": 4, "core/fleet": 4,
}

// corePackages are the directories under core/ that hold Go code.
func corePackages(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() {
			if m, _ := filepath.Glob(filepath.Join(path, "*.go")); len(m) > 0 {
				dirs = append(dirs, filepath.ToSlash(filepath.Join("core", path)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func TestCoreImportsPointDownwards(t *testing.T) {
	for _, pkg := range corePackages(t) {
		rank, ok := layers[pkg]
		if !ok {
			t.Errorf("%s has no layer: add it to the layers table with the rank of what it builds on", pkg)
			continue
		}
		bp, err := build.ImportDir(dirOf(pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, imp := range bp.Imports {
			if !strings.HasPrefix(imp, module) {
				if strings.HasPrefix(imp, "github.com/spf13/") {
					t.Errorf("%s imports %s: core knows nothing of the command line", pkg, imp)
				}
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if strings.HasPrefix(dep, "cmd") {
				t.Errorf("%s imports %s: core knows nothing of the command line", pkg, dep)
			}
			if r, ok := layers[dep]; ok && r >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): a package may import only lower layers", pkg, rank, dep, r)
			}
		}
	}
}

func TestCorePackagesStaySmall(t *testing.T) {
	for _, pkg := range corePackages(t) {
		dir := dirOf(pkg)
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		total := 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f, "_test.go") {
				continue // tests are not counted, as the issue counted
			}
			n := strings.Count(string(data), "\n")
			total += n
			if n > 600 {
				t.Errorf("%s has %d lines: split it (600 at most for a non-test file)", f, n)
			}
		}
		if total > 3000 {
			t.Errorf("package %s has %d lines: split it (3,000 at most)", pkg, total)
		}
	}
}

// The engine names no flag in its errors, decides no exit code and draws
// no terminal glyph: the command line does.
func TestCoreKnowsNothingOfTheCommandLine(t *testing.T) {
	flag := regexp.MustCompile(`(^|[\s("'])--[a-z][a-z-]+`)
	glyphs := "✔✗◎►"
	for _, pkg := range corePackages(t) {
		dir := dirOf(pkg)
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
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
							if s, _ := strconv.Unquote(lit.Value); flag.MatchString(s) {
								t.Errorf("%s: error string %s names a flag: return a typed error and let cmd name it", fset.Position(lit.Pos()), lit.Value)
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

// dirOf is a package's directory relative to core/.
func dirOf(pkg string) string { return "./" + strings.TrimPrefix(strings.TrimPrefix(pkg, "core"), "/") }
