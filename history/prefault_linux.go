package history

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// prefault maps the pages of n bytes at p, writable, in one system call,
// before they are written. Large fresh arrays otherwise fault page by page
// while the decoding goroutines write them, and a page the collector read
// first (mapped to the shared zero page) is copied on write with a TLB
// shoot-down to every other processor: on this project's 2-core VMs a
// 1M-request read spent half its time in the kernel that way (BENCHMARKS.md,
// "History codec"). Harmless when it fails (older kernels say EINVAL).
func prefault(p unsafe.Pointer, n uintptr) {
	if n < 32<<10 {
		return
	}
	start := uintptr(p) &^ (4096 - 1)
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, uintptr(p)+n-start, madvPopulateWrite)
}
