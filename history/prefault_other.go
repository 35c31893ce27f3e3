//go:build !linux

package history

import "unsafe"

// prefault does nothing where MADV_POPULATE_WRITE does not exist.
func prefault(unsafe.Pointer, uintptr) {}
