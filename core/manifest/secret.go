package manifest

import (
	"encoding/base64"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Placeholders for masked Secret values: equal values read the same, and a
// changed value shows as a change without revealing either side.
const (
	MaskedValue   = "(masked)"
	maskedOld     = "(masked, old value)"
	maskedNew     = "(masked, new value)"
	secretDataKey = "data"
)

// IsSecret reports whether u is a core v1 Secret.
func IsSecret(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}

// MaskAll replaces every value of a Secret's data and stringData.
func MaskAll(obj map[string]any) {
	for _, field := range []string{secretDataKey, "stringData"} {
		if m, ok := obj[field].(map[string]any); ok {
			for k := range m {
				m[k] = MaskedValue
			}
		}
	}
}

// MaskPair masks the data of two sides of a Secret so that an equal value
// reads the same on both and a changed one shows as changed.
func MaskPair(live, desired map[string]any) {
	ld, _ := live[secretDataKey].(map[string]any)
	dd, _ := desired[secretDataKey].(map[string]any)
	for k, dv := range dd {
		lv, ok := ld[k]
		switch {
		case ok && fmt.Sprint(lv) == fmt.Sprint(dv):
			ld[k], dd[k] = MaskedValue, MaskedValue
		case ok:
			ld[k], dd[k] = maskedOld, maskedNew
		default:
			dd[k] = MaskedValue
		}
	}
	for k := range ld {
		if _, ok := dd[k]; !ok {
			ld[k] = MaskedValue
		}
	}
}

// MaskForShow replaces every value of a Secret with a mask that the API
// server refuses (it is not base64), so that masked output piped to
// kubectl apply fails instead of storing the mask: stringData moves into
// data for that. It reports whether the Secret had any data to mask.
func MaskForShow(obj map[string]any) bool {
	data, _ := obj[secretDataKey].(map[string]any)
	strData, _ := obj["stringData"].(map[string]any)
	if len(data) == 0 && len(strData) == 0 {
		return false
	}
	masked := make(map[string]any, len(data)+len(strData))
	for k := range data {
		masked[k] = MaskedValue
	}
	for k := range strData {
		masked[k] = MaskedValue
	}
	obj[secretDataKey] = masked
	delete(obj, "stringData")
	return true
}

// StringDataToData folds stringData into data as the API server does, so
// that a rendered Secret compares with the stored one.
func StringDataToData(obj map[string]any) {
	sd, ok := obj["stringData"].(map[string]any)
	if !ok {
		return
	}
	data, _ := obj[secretDataKey].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		data[k] = base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(v)))
	}
	obj[secretDataKey] = data
	delete(obj, "stringData")
}

// MaskPath masks the value at path in nested values (a value that came
// from a Secret); a path that stops at a non-map masks what is there.
func MaskPath(m map[string]any, path []string) {
	for i, k := range path {
		v, ok := m[k]
		if !ok {
			return
		}
		if i == len(path)-1 {
			m[k] = MaskedValue
			return
		}
		next, ok := v.(map[string]any)
		if !ok {
			m[k] = MaskedValue
			return
		}
		m = next
	}
}
