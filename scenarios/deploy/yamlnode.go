package deploy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a problem with a deployment file. It names the file, the line
// and the key (a dotted path such as domains[1].https), so the operator
// finds it at once.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	if loc == "" {
		loc = "deployment file"
	}
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Key == "" {
		return loc + ": " + e.Msg
	}
	return loc + ": " + e.Key + ": " + e.Msg
}

// field is one key of a mapping with its value.
type field struct {
	key *yaml.Node
	val *yaml.Node
}

// walker turns yaml.Nodes into values, naming key and line in every error.
type walker struct{ file string }

func (w *walker) errf(n *yaml.Node, key, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: w.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// deref follows aliases (bounded: yaml rejects alias cycles, this is a guard).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("the value %q", clip(n.Value))
	}
	return "something else"
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// mapping reads a mapping whose keys must be among allowed.
func (w *walker) mapping(n *yaml.Node, path string, allowed ...string) (map[string]field, error) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, w.errf(n, path, "want a mapping with the keys %s, got %s", strings.Join(allowed, ", "), kindName(n))
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, w.errf(n.Content[i], path, "a key must be a plain word, got %s", kindName(k))
		}
		key := k.Value
		if k.Tag == "!!merge" {
			return nil, w.errf(k, join(path, key), "merge keys (<<) are not supported; write the keys out")
		}
		if !slices.Contains(allowed, key) {
			msg := fmt.Sprintf("unknown key; known keys here: %s", strings.Join(allowed, ", "))
			if s := suggest(key, allowed); s != "" {
				msg = fmt.Sprintf("unknown key; did you mean %q? (known keys here: %s)", s, strings.Join(allowed, ", "))
			}
			return nil, w.errf(k, join(path, key), "%s", msg)
		}
		if prev, dup := out[key]; dup {
			return nil, w.errf(k, join(path, key), "duplicate key (first at line %d)", prev.key.Line)
		}
		out[key] = field{key: k, val: deref(v)}
	}
	return out, nil
}

// present reports whether a key is given with a non-null value.
func present(m map[string]field, key string) bool {
	f, ok := m[key]
	return ok && !(f.val != nil && f.val.Kind == yaml.ScalarNode && f.val.Tag == "!!null")
}

// require returns the field or an error at the parent's line.
func (w *walker) require(m map[string]field, parent *yaml.Node, path, key, hint string) (field, error) {
	if !present(m, key) {
		if f, ok := m[key]; ok {
			return f, w.errf(f.key, join(path, key), "has no value; %s", hint)
		}
		return field{}, w.errf(deref(parent), join(path, key), "required key missing; %s", hint)
	}
	return m[key], nil
}

// str reads a non-empty scalar as a string.
func (w *walker) str(f field, path string) (string, error) {
	n := f.val
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", w.errf(line(f), path, "want a text value, got %s", kindName(orEmpty(n)))
	}
	v := strings.TrimSpace(n.Value)
	if v == "" {
		return "", w.errf(n, path, "must not be empty")
	}
	if strings.ContainsAny(v, "\x00\r") {
		return "", w.errf(n, path, "contains a NUL or carriage return")
	}
	return v, nil
}

// boolean reads true or false.
func (w *walker) boolean(f field, path string) (bool, error) {
	n := f.val
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, w.errf(line(f), path, "want true or false, got %s", kindName(orEmpty(n)))
	}
	v, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		return false, w.errf(n, path, "want true or false, got %s", clip(n.Value))
	}
	return v, nil
}

// integer reads an int within [lo, hi].
func (w *walker) integer(f field, path string, lo, hi int) (int, error) {
	n := f.val
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, w.errf(line(f), path, "want a whole number from %d to %d, got %s", lo, hi, kindName(orEmpty(n)))
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		return 0, w.errf(n, path, "want a whole number from %d to %d, got %s", lo, hi, clip(n.Value))
	}
	return int(v), nil
}

// fraction reads a number in (0, 1]; "50%" is accepted too.
func (w *walker) fraction(f field, path string) (float64, error) {
	n := f.val
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return 0, w.errf(line(f), path, "want a fraction such as 0.5 or 50%%, got %s", kindName(orEmpty(n)))
	}
	s, scale := n.Value, 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 100
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	v /= scale
	if err != nil || !(v > 0 && v <= 1) {
		return 0, w.errf(n, path, "want a fraction above 0 and at most 1 (or 1%%-100%%), got %s", clip(n.Value))
	}
	return v, nil
}

// duration reads a Go duration ("10s", "1m30s") within [lo, hi].
func (w *walker) duration(f field, path string, lo, hi time.Duration) (time.Duration, error) {
	v, err := w.str(f, path)
	if err != nil {
		return 0, err
	}
	d, perr := time.ParseDuration(v)
	if perr != nil {
		return 0, w.errf(f.val, path, "want a duration such as 10s or 1m30s, got %q", clip(v))
	}
	if d < lo || d > hi {
		return 0, w.errf(f.val, path, "%s is out of range: want %s to %s", d, lo, hi)
	}
	return d, nil
}

// list reads a sequence; a single scalar counts as a list of one when
// scalarOK is set.
func (w *walker) list(f field, path string, scalarOK bool) ([]*yaml.Node, error) {
	n := f.val
	switch {
	case n != nil && n.Kind == yaml.SequenceNode:
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = deref(c)
		}
		return out, nil
	case scalarOK && n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null":
		return []*yaml.Node{n}, nil
	}
	return nil, w.errf(line(f), path, "want a list, got %s", kindName(orEmpty(n)))
}

// line picks the node to report a field's problem at: the value, or the
// key when the value is missing.
func line(f field) *yaml.Node {
	if f.val != nil && f.val.Line > 0 {
		return f.val
	}
	return f.key
}

func orEmpty(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

// suggest returns the allowed key closest to key when it is a likely typo.
func suggest(key string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(key), a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// entries reads a mapping whose keys are the file's own names (form
// fields, headers, variables), in the order the file gives them. Keys must
// be plain scalars, neither merged (<<) nor given twice.
func (w *walker) entries(f field, path, what string) ([]field, error) {
	n := f.val
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, w.errf(line(f), path, "want a mapping of %s, got %s", what, kindName(orEmpty(n)))
	}
	out := make([]field, 0, len(n.Content)/2)
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			return nil, w.errf(n.Content[i], path, "a key must be a plain word, got %s", kindName(orEmpty(k)))
		}
		if k.Tag == "!!merge" {
			return nil, w.errf(k, join(path, k.Value), "merge keys (<<) are not supported; write the keys out")
		}
		if strings.TrimSpace(k.Value) == "" {
			return nil, w.errf(k, path, "an empty key")
		}
		if at, dup := first[k.Value]; dup {
			return nil, w.errf(k, join(path, k.Value), "duplicate key (first at line %d)", at)
		}
		first[k.Value] = k.Line
		out = append(out, field{key: k, val: deref(v)})
	}
	return out, nil
}

// text reads a scalar as it is written; empty is allowed ("" in YAML),
// nothing (a missing value) is not. Line breaks are refused: the text goes
// into a request.
func (w *walker) text(f field, path string) (string, error) {
	n := f.val
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", w.errf(line(f), path, "want a text value (\"\" for an empty one), got %s", kindName(orEmpty(n)))
	}
	if strings.ContainsAny(n.Value, "\x00\r\n") {
		return "", w.errf(n, path, "contains a NUL or a line break")
	}
	return n.Value, nil
}
