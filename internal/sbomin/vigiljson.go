package sbomin

import (
	"encoding/json"
	"fmt"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// vigilProbe tells Vigil's own JSON (a report of `vigil image --format
// json` or an inventory of `vigil sbom --format json`) from other JSON.
type vigilProbe struct {
	SchemaVersion string `json:"schema_version"`
	Tool          struct {
		Name string `json:"name"`
	} `json:"tool"`
	Packages json.RawMessage `json:"packages"`
}

// isVigilJSON reports whether b is Vigil's JSON report or inventory.
func isVigilJSON(b []byte) bool {
	var p vigilProbe
	return json.Unmarshal(b, &p) == nil && p.Tool.Name == "vigil" && p.SchemaVersion != "" && len(p.Packages) > 0
}

// readVigilJSON reads the inventory back from Vigil's JSON: it is already
// an inventory, with ecosystems, source packages and layers, so nothing is
// rebuilt from purls. Findings in a report are ignored: the scan matches
// again against the current DB.
func readVigilJSON(b []byte) (*inventory.Inventory, error) {
	var inv inventory.Inventory
	if err := json.Unmarshal(b, &inv); err != nil {
		return nil, jsonError(b, "Vigil JSON", err)
	}
	if err := checkVigilInventory(&inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// checkVigilInventory checks what json.Unmarshal cannot: every package
// has a name and a type, and a layer of the image.
func checkVigilInventory(inv *inventory.Inventory) error {
	for i, p := range inv.Packages {
		if p.Name == "" || p.Type == "" {
			return fmt.Errorf("in Vigil JSON: packages[%d]: a package needs a name and a type", i)
		}
		if p.Layer != nil && (p.Layer.Index < -1 || (len(inv.Artifact.Layers) > 0 && p.Layer.Index >= len(inv.Artifact.Layers))) {
			return fmt.Errorf("in Vigil JSON: packages[%d] (%s): layer index %d outside the image's %d layers", i, p.Name, p.Layer.Index, len(inv.Artifact.Layers))
		}
	}
	if inv.Packages == nil {
		inv.Packages = []inventory.Package{}
	}
	return nil
}
