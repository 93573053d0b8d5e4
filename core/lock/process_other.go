//go:build !unix

package lock

// ProcessGone cannot tell elsewhere; the lock then waits out its expiry.
func ProcessGone(int) bool { return false }
