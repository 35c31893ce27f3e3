package scenarios

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ScenarioFile is a scenario kept as a file (run --scenario-file): a fixed
// fault schedule on a lab, with the seed and load that go with it. shrink
// writes one for the smallest schedule that still fails, so the failure
// can be kept as a regression test.
type ScenarioFile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Seed        int64  `yaml:"seed"`
	// Duration is the load's length ("30s").
	Duration string `yaml:"duration"`
	Users    int    `yaml:"users,omitempty"`
	Rate     int    `yaml:"rate,omitempty"`
	// Lab names the catalogue scenario whose lab to use ("" is the good
	// lab), e.g. a negative control's broken setup.
	Lab string `yaml:"lab,omitempty"`
	// Faults are --fault specs with their at and for.
	Faults []string `yaml:"faults"`
	// Fails lists the invariants that failed when the file was written.
	Fails []string `yaml:"fails,omitempty"`
}

var fileNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ReadScenarioFile reads and checks a scenario file.
func ReadScenarioFile(path string) (ScenarioFile, error) {
	var f ScenarioFile
	data, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("read scenario file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("scenario file %s: %w (keys: name, description, seed, duration, users, rate, lab, faults, fails)", path, err)
	}
	if !fileNameRE.MatchString(f.Name) {
		return f, fmt.Errorf("scenario file %s: name %q: want lower-case letters, digits and dashes", path, f.Name)
	}
	if _, err := f.LoadDuration(); err != nil {
		return f, fmt.Errorf("scenario file %s: %w", path, err)
	}
	for _, s := range f.Faults {
		if _, _, err := ParseStep(s); err != nil {
			return f, fmt.Errorf("scenario file %s: %w", path, err)
		}
	}
	return f, nil
}

// LoadDuration is Duration parsed.
func (f ScenarioFile) LoadDuration() (time.Duration, error) {
	d, err := time.ParseDuration(f.Duration)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("duration %q: want a positive duration such as 30s", f.Duration)
	}
	return d, nil
}

// Write writes the file, with a header that says how to run it.
func (f ScenarioFile) Write(path string) error {
	body, err := yaml.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode scenario file: %w", err)
	}
	head := "# A regify-verify scenario: run it with\n#   regify-verify run --scenario-file " + path + "\n"
	if err := os.WriteFile(path, append([]byte(head), body...), 0o644); err != nil {
		return fmt.Errorf("write scenario file: %w", err)
	}
	return nil
}

// Spec builds the scenario: the faults at their times (no jitter), on
// the lab of lab (nil: the good lab) with needsDB.
func (f ScenarioFile) Spec(lab *Scenario) (Spec, error) {
	d, err := f.LoadDuration()
	if err != nil {
		return nil, err
	}
	desc := f.Description
	if desc == "" {
		desc = "Scenario file: " + strings.Join(f.Faults, "; ")
	}
	sc := Scenario{Name: f.Name, Description: desc, Duration: d, Users: f.Users, Rate: f.Rate}
	if lab != nil {
		sc.Lab, sc.NeedsDatabase = lab.Lab, lab.NeedsDatabase
	}
	for _, s := range f.Faults {
		st, db, err := ParseStep(s)
		if err != nil {
			return nil, err
		}
		st.Jitter = 0
		sc.Faults = append(sc.Faults, st)
		sc.NeedsDatabase = sc.NeedsDatabase || db
	}
	return func() Scenario { return sc }, nil
}
