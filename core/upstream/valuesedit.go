package upstream

import (
	"bytes"
	"fmt"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
)

// EditYAML sets scalar values in a YAML document without re-encoding it:
// yaml.v3 nodes find where each value is, and only those bytes change, so
// every comment, key order, quoting style and blank line elsewhere stays.
// Paths are dot-separated keys ("metallb.controller.image.tag"). A missing
// key is added as the first key of its nearest existing block mapping.
func EditYAML(src []byte, set []PathValue) ([]byte, error) {
	out := src
	for _, pv := range set {
		var err error
		if out, err = editOne(out, pv); err != nil {
			return nil, fmt.Errorf("%s: %w", pv.Path, err)
		}
		// The last guard of "nothing is lost": an edit that would leave
		// the file unreadable is refused, never written.
		var check any
		if err := yaml.Unmarshal(out, &check); err != nil {
			return nil, fmt.Errorf("%s: setting it in place would break the file's YAML (%v); set it by hand", pv.Path, err)
		}
	}
	return out, nil
}

// PathValue is one value to set.
type PathValue struct {
	Path  string
	Value string
}

func editOne(src []byte, pv PathValue) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	keys := strings.Split(pv.Path, ".")
	if len(doc.Content) == 0 {
		// An empty file: start a document.
		return append(src, []byte(nestedLines(keys, pv.Value, 0))...), nil
	}
	node := doc.Content[0]
	for i, key := range keys {
		if node.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: %s is not a mapping", node.Line, strings.Join(keys[:i], "."))
		}
		if node.Style&yaml.FlowStyle != 0 {
			// Editing inside {…} byte by byte is not safe; say so.
			return nil, fmt.Errorf("line %d: a flow mapping ({…}); write it as a block mapping (one key per line) first", node.Line)
		}
		var next *yaml.Node
		for j := 0; j+1 < len(node.Content); j += 2 {
			if node.Content[j].Value == key {
				next = node.Content[j+1]
			}
		}
		if next == nil {
			return insertKeys(src, node, keys[i:], pv.Value)
		}
		node = next
	}
	if node.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("line %d: holds a %s, not a scalar", node.Line, kindName(node.Kind))
	}
	return replaceScalar(src, node, pv.Value)
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.AliasNode:
		return "alias"
	}
	return "node"
}

// offset is the byte offset of a node's 1-based line and column.
func offset(src []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	// Columns count runes.
	for c := 1; c < col && off < len(src) && src[off] != '\n'; c++ {
		_, size := decodeRune(src[off:])
		off += size
	}
	return off
}

func decodeRune(b []byte) (rune, int) {
	r := []rune(string(b[:min(len(b), 4)]))
	if len(r) == 0 {
		return 0, 1
	}
	return r[0], len(string(r[0]))
}

func replaceScalar(src []byte, node *yaml.Node, value string) ([]byte, error) {
	if node.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return nil, fmt.Errorf("line %d: a block scalar (| or >); make it a one-line value first", node.Line)
	}
	start := offset(src, node.Line, node.Column)
	end, err := scalarEnd(src, start, node.Style)
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", node.Line, err)
	}
	text := formatScalar(value, node.Style)
	out := make([]byte, 0, len(src)+len(text))
	out = append(out, src[:start]...)
	out = append(out, text...)
	return append(out, src[end:]...), nil
}

// scalarEnd finds where a one-line scalar starting at start ends.
func scalarEnd(src []byte, start int, style yaml.Style) (int, error) {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			case '\n':
				return 0, fmt.Errorf("a quoted value over several lines; make it one line first")
			}
		}
	case style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
			if src[i] == '\n' {
				return 0, fmt.Errorf("a quoted value over several lines; make it one line first")
			}
		}
	default:
		end := len(src)
		if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
			end = start + i
		}
		line := src[start:end]
		if i := bytes.Index(line, []byte(" #")); i >= 0 {
			line = line[:i]
		}
		if i := bytes.Index(line, []byte("\t#")); i >= 0 {
			line = line[:i]
		}
		return start + len(bytes.TrimRight(line, " \t")), nil
	}
	return 0, fmt.Errorf("unterminated quoted value")
}

// formatScalar writes value in the old style where YAML reads it back as
// the same string; a plain value that would not is double-quoted.
func formatScalar(value string, style yaml.Style) string {
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case style&yaml.DoubleQuotedStyle != 0:
		return doubleQuoted(value)
	}
	if plainSafe(value) {
		return value
	}
	return doubleQuoted(value)
}

func doubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plainSafe reports whether value reads back as the same string, unquoted.
func plainSafe(value string) bool {
	if value == "" || strings.ContainsAny(value, "\n#") {
		return false
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("k: "+value+"\n"), &n); err != nil || len(n.Content) == 0 {
		return false
	}
	m := n.Content[0]
	if len(m.Content) != 2 {
		return false
	}
	v := m.Content[1]
	if v.Kind != yaml.ScalarNode || v.Value != value || v.ShortTag() != "!!str" {
		return false
	}
	// Helm reads values as YAML 1.1, where yes, on and 0x1 are not strings.
	var old map[string]any
	if err := yamlv2.Unmarshal([]byte("k: "+value+"\n"), &old); err != nil {
		return false
	}
	s, ok := old["k"].(string)
	return ok && s == value
}

// insertKeys adds the missing keys, as the first entries of mapping m.
func insertKeys(src []byte, m *yaml.Node, keys []string, value string) ([]byte, error) {
	if m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		return nil, fmt.Errorf("line %d: cannot add %q to an empty or flow ({...}) mapping; add the key by hand once", m.Line, strings.Join(keys, "."))
	}
	first := m.Content[0]
	lineStart := offset(src, first.Line, 1)
	indent := first.Column - 1
	text := nestedLines(keys, value, indent)
	out := make([]byte, 0, len(src)+len(text))
	out = append(out, src[:lineStart]...)
	out = append(out, text...)
	return append(out, src[lineStart:]...), nil
}

func nestedLines(keys []string, value string, indent int) string {
	var b strings.Builder
	for i, k := range keys {
		b.WriteString(strings.Repeat(" ", indent+2*i))
		b.WriteString(k)
		b.WriteString(":")
		if i == len(keys)-1 {
			b.WriteString(" " + formatScalar(value, 0))
		}
		b.WriteString("\n")
	}
	return b.String()
}
