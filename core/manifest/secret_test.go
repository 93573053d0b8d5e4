package manifest

import (
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSecretMasking(t *testing.T) {
	live := obj(t, "data: {same: YQ==, changed: Yg==, gone: Yw==}")
	desired := obj(t, "data: {same: YQ==, changed: ZA==, added: ZQ==}")
	MaskPair(live, desired)
	want := []any{
		live["data"].(map[string]any)["same"], desired["data"].(map[string]any)["same"],
		live["data"].(map[string]any)["changed"], desired["data"].(map[string]any)["changed"],
		live["data"].(map[string]any)["gone"], desired["data"].(map[string]any)["added"],
	}
	if !reflect.DeepEqual(want, []any{MaskedValue, MaskedValue, maskedOld, maskedNew, MaskedValue, MaskedValue}) {
		t.Errorf("masking = %v", want)
	}
}
