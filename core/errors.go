// Package core is cozyhr's engine: it renders a chart, post-processes the
// manifests, diffs them against the live cluster and applies them, as a
// library that knows nothing of the command line. Errors are typed where a
// caller may act on them; exit codes and flag names are the caller's.
package core

// NeedsClusterError is a command run offline that reads or writes the
// cluster.
type NeedsClusterError struct{ What string }

func (e *NeedsClusterError) Error() string { return e.What + " needs a cluster" }
