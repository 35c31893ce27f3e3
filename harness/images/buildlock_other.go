//go:build !unix

package images

import "context"

// buildLock is a no-op where flock is not available: concurrent builds of
// one image then each build it, which is slower but still correct.
func buildLock(context.Context, string, string) (func(), error) { return func() {}, nil }
