package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File names written by WriteAll.
const (
	HTMLFile    = "index.html"
	JSONFile    = "report.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
)

// Options tune WriteAll. The zero value writes the four files and nothing else.
type Options struct {
	// StepSummary is the path of GitHub's job summary file (the CLI passes
	// os.Getenv("GITHUB_STEP_SUMMARY")); when set, summary.md is appended to it.
	StepSummary string
	// ReportLink is where summary.md says the report is; default dir/index.html.
	ReportLink string
}

// WriteAll writes index.html, report.json, junit.xml and summary.md into dir,
// creating it. Each file is written to a temporary name and renamed, so an
// interrupted write never leaves a half file that looks whole.
func WriteAll(dir string, r *Report, opts Options) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report directory: %w", err)
	}
	link := opts.ReportLink
	if link == "" {
		link = filepath.Join(dir, HTMLFile)
	}
	var summary bytes.Buffer
	if err := WriteSummary(&summary, r, link); err != nil {
		return err
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{JSONFile, func(w io.Writer) error { return WriteJSON(w, r) }},
		{JUnitFile, func(w io.Writer) error { return WriteJUnit(w, r) }},
		{SummaryFile, func(w io.Writer) error { _, err := w.Write(summary.Bytes()); return err }},
		{HTMLFile, func(w io.Writer) error { return WriteHTML(w, r) }},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	if opts.StepSummary != "" {
		if err := appendFile(opts.StepSummary, summary.Bytes()); err != nil {
			return fmt.Errorf("appending to GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("rendering %s: %w", filepath.Base(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append([]byte("\n"), data...)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
