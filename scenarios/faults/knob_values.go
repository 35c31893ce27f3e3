package faults

import (
	"fmt"
	"reflect"
)

// KnobValues lists a fault's knobs with their current values, in field
// order: what a spec "NAME:knob=value,..." needs to build it again.
func KnobValues(f Fault) []Knob {
	v := reflect.ValueOf(f)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []Knob
	for i := 0; i < v.NumField(); i++ {
		if tag := v.Type().Field(i).Tag.Get("fault"); tag != "" {
			out = append(out, Knob{Name: tag, Value: fmt.Sprint(v.Field(i).Interface())})
		}
	}
	return out
}
