package manifest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	yamlv2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// YAML is obj as sigs.k8s.io/yaml writes it, without the JSON round trip
// that library makes first: go-yaml v2 writes an object of JSON types
// (strings, int64, float64, bools, nil, maps and lists of them) exactly
// as it writes that object's JSON decoded again, and printing every
// object of a large diff spent most of its time in that round trip.
func YAML(obj map[string]any) ([]byte, error) {
	return yamlv2.Marshal(obj)
}

// YAMLDocument is obj as the YAML node tree that parsing its YAML text
// gives (keys sorted, scalars tagged by their JSON type), built directly,
// for dyff: going through YAML text took most of the time of a diff of many
// changes.
func YAMLDocument(obj map[string]any) *yaml.Node {
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{yamlNode(obj)}}
}

func yamlNode(v any) *yaml.Node {
	switch t := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: make([]*yaml.Node, 0, 2*len(t))}
		if len(t) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, k := range slices.SortedFunc(maps.Keys(t), yamlKeyCompare) {
			n.Content = append(n.Content, yamlString(k), yamlNode(t[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: make([]*yaml.Node, 0, len(t))}
		if len(t) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, e := range t {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case string:
		return yamlString(t)
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(t, 10)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(t)}
	}
	// Floats, and anything else a decoder gave.
	return parsedScalar(v)
}

// yamlKeyCompare orders mapping keys as the YAML text sigs.k8s.io/yaml
// writes has them (go-yaml v2's order), so that dyff reports differences
// in the same order: at the first rune that differs, a letter comes after
// anything else, and a run of digits compares by its value (file2 before
// file10).
func yamlKeyCompare(a, b string) int {
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		aLetter, bLetter := unicode.IsLetter(ar[i]), unicode.IsLetter(br[i])
		if aLetter && bLetter {
			return cmp.Compare(ar[i], br[i])
		}
		if aLetter || bLetter {
			if bLetter {
				return -1
			}
			return 1
		}
		// Inside a number that has a non-zero digit before i, a 0 here is
		// one more digit of it: both runs start from the same prefix.
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		aEnd, bEnd := i, i
		for ; aEnd < len(ar) && unicode.IsDigit(ar[aEnd]); aEnd++ {
			an = an*10 + int64(ar[aEnd]-'0')
		}
		for ; bEnd < len(br) && unicode.IsDigit(br[bEnd]); bEnd++ {
			bn = bn*10 + int64(br[bEnd]-'0')
		}
		if c := cmp.Compare(an, bn); c != 0 {
			return c
		}
		if c := cmp.Compare(aEnd, bEnd); c != 0 {
			return c
		}
		return cmp.Compare(ar[i], br[i])
	}
	return cmp.Compare(len(ar), len(br))
}

// yamlString is a string scalar, styled (quoted, literal) as its YAML text
// would be. Most strings of an object (names, images, labels) are plain;
// only the others are written and parsed to learn their style.
func yamlString(s string) *yaml.Node {
	if plainString(s) {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	}
	return parsedScalar(s)
}

// plainString reports whether s is written without quotes: only letters,
// digits and -_./, not starting like a number, and not a YAML 1.1 boolean
// or null.
func plainString(s string) bool {
	if s == "" || strings.ContainsAny(s[:1], "0123456789.-+") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)) {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "true", "false", "on", "off", "null":
		return false
	}
	return true
}

// parsedScalar is v as a node the slow way, the way the whole object used
// to go: written as YAML, parsed back.
func parsedScalar(v any) *yaml.Node {
	var n yaml.Node
	if data, err := sigsyaml.Marshal(v); err == nil && yaml.Unmarshal(data, &n) == nil && len(n.Content) == 1 {
		return n.Content[0]
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprint(v)}
}
