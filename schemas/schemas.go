// Package schemas embeds the JSON Schemas that are the single source of truth
// for cozyhr's file formats.
package schemas

import _ "embed"

// Chart is the JSON Schema (2020-12) of .cozyhr.yaml.
//
//go:embed cozyhr.schema.json
var Chart []byte

// Defaults is the JSON Schema (2020-12) of a .cozyhr.yaml of kind
// Defaults, which gives a tree's charts without their own file defaults.
//
//go:embed cozyhr-defaults.schema.json
var Defaults []byte

// Snapshot is the JSON Schema (2020-12) of the file cozyhr snapshot
// writes.
//
//go:embed cozyhr-snapshot.schema.json
var Snapshot []byte
