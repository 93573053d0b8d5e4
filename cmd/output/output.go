// Package output is the one place cozyhr's output formats live: the
// format names each command accepts, checked before anything runs, and
// the printers for what core returns.
package output
