package buildinfo

import (
	"reflect"
	"runtime"
	"testing"
)

func TestVersionFillsWhatTheLinkerLeftOut(t *testing.T) {
	linked := VersionInfo{Version: "v1.2.3", Commit: "abc", BuildDate: "2026-01-01"}
	v := Version(linked)
	if v.Version != "v1.2.3" || v.Commit != "abc" || v.BuildDate != "2026-01-01" {
		t.Errorf("the linker's values were replaced: %+v", v)
	}
	if v.GoVersion != runtime.Version() || v.Platform != runtime.GOOS+"/"+runtime.GOARCH || v.Helm == "" {
		t.Errorf("go, platform, helm: %+v", v)
	}
	if reflect.DeepEqual(v, linked) {
		t.Error("nothing was filled in")
	}
}
