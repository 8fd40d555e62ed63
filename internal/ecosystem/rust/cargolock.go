package rust

import (
	"errors"
	"fmt"

	"github.com/BurntSushi/toml"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// cargoLock is the part of Cargo.lock (format versions 1 to 4) that names
// packages.
type cargoLock struct {
	Package []struct {
		Name    string `toml:"name"`
		Version string `toml:"version"`
		Source  string `toml:"source"`
	} `toml:"package"`
}

// ParseCargoLock returns the crates a Cargo.lock pins, once per
// name@version. Workspace members and path dependencies (no source) are
// included with Metadata "cargo.source" = "local".
func ParseCargoLock(path string, content []byte) ([]inventory.Package, error) {
	var lock cargoLock
	if err := toml.Unmarshal(content, &lock); err != nil {
		return nil, fmt.Errorf("invalid TOML: %w", err)
	}
	var c collector
	for _, p := range lock.Package {
		if p.Name == "" || p.Version == "" {
			return nil, errors.New("[[package]] without name or version")
		}
		if err := c.add(newPackage(path, p.Name, p.Version, p.Source)); err != nil {
			return nil, err
		}
	}
	return c.set.Packages(), nil
}
