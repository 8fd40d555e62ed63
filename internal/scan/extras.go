package scan

import (
	"time"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/result"
)

// Extras: temporary until checks, secrets and policy land.
type Extras struct{}

func (o Options) analyzers() []inventory.Analyzer { return catalog.Packages() }

func (e Extras) apply(inv *inventory.Inventory, r *result.Report, now time.Time) { r.Summarize() }
