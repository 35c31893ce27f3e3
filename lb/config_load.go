package lb

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadConfig reads a YAML config file, rejects unknown fields, loads the
// certificate files (relative paths are relative to the config file) and
// validates it. A bad file gets one *ConfigError naming the field and line.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read lb config: %w", err)
	}
	return ParseConfig(data, filepath.Dir(path))
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)
var yamlFieldRe = regexp.MustCompile(`field (\S+) not found`)

// ParseConfig parses YAML config text; baseDir resolves relative file paths.
func ParseConfig(data []byte, baseDir string) (Config, error) {
	var cfg Config
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, &ConfigError{Field: "listeners", Err: errors.New("config file is empty")}
		}
		ce := yamlError(err)
		if ce.Line > 0 {
			// Name the field by its full path (listeners[1].nmae), not just its key.
			if f := fieldAtLine(&root, ce.Line, ""); f != "" && (ce.Field == "(file)" || strings.HasSuffix(f, "."+ce.Field) || f == ce.Field) {
				ce.Field = f
			}
		}
		return Config{}, ce
	}
	for i := range cfg.Certificates {
		ct := &cfg.Certificates[i]
		if ct.CertFile == "" || ct.KeyFile == "" {
			continue
		}
		certFile, keyFile := ct.CertFile, ct.KeyFile
		if !filepath.IsAbs(certFile) {
			certFile = filepath.Join(baseDir, certFile)
		}
		if !filepath.IsAbs(keyFile) {
			keyFile = filepath.Join(baseDir, keyFile)
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			f := fmt.Sprintf("certificates[%d].cert_file", i)
			return Config{}, &ConfigError{Field: f, Line: lineOf(&root, f), Err: fmt.Errorf("load certificate: %w", err)}
		}
		ct.TLS = &pair
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Line = lineOf(&root, ce.Field)
		}
		return Config{}, err
	}
	return cfg, nil
}

// yamlError turns a yaml decode error into a ConfigError with a line.
func yamlError(err error) *ConfigError {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	ce := &ConfigError{Field: "(file)", Err: err}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		ce.Line, _ = strconv.Atoi(m[1])
		ce.Err = errors.New(m[2])
		if f := yamlFieldRe.FindStringSubmatch(m[2]); f != nil {
			ce.Field = f[1]
			ce.Err = errors.New("unknown field")
		}
	}
	return ce
}

// lineOf finds the line of a field path like listeners[1].address in a YAML
// document; 0 when it is not there.
func lineOf(root *yaml.Node, field string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(field, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// fieldAtLine returns the path (listeners[1].address) of the key on a line.
func fieldAtLine(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if f := fieldAtLine(c, line, prefix); f != "" {
				return f
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := k.Value
			if prefix != "" {
				path = prefix + "." + k.Value
			}
			if k.Line == line {
				return path
			}
			if f := fieldAtLine(v, line, path); f != "" {
				return f
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if f := fieldAtLine(c, line, fmt.Sprintf("%s[%d]", prefix, i)); f != "" {
				return f
			}
		}
	}
	return ""
}
