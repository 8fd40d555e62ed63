// Package catalog assembles the analyzers a scan runs over every layer: the
// OS detector and each ecosystem's catalogers.
package catalog

import "github.com/vigil-scan/vigil/internal/inventory"

// Default returns the analyzers for a package inventory.
func Default() []inventory.Analyzer {
	var all []inventory.Analyzer
	return all
}
