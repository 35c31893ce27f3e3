package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// WriteJSON writes r as report.json: indented, schema-tagged.
func WriteJSON(w io.Writer, r *Report) error {
	out := *r
	if out.Schema == "" {
		out.Schema = Schema
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("encoding report %s as JSON: %w", r.RunID, err)
	}
	return nil
}

// ReadJSON reads a report.json written by WriteJSON (or WriteAll). It refuses
// a file of another schema rather than misreading it.
func ReadJSON(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening report: %w", err)
	}
	defer f.Close()
	return DecodeJSON(f, path)
}

// DecodeJSON decodes a report from rd; name is used in errors only.
func DecodeJSON(rd io.Reader, name string) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("decoding report %s: %w", name, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("reading report %s: schema %q, want %q (written by another version of regify-verify?)", name, r.Schema, Schema)
	}
	return &r, nil
}
