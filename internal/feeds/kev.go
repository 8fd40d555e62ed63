package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxKEVSize bounds the KEV catalog (about 1.3 MB today).
const maxKEVSize = 256 << 20

type kevCatalog struct {
	CatalogVersion  string     `json:"catalogVersion"`
	Vulnerabilities []kevEntry `json:"vulnerabilities"`
}

type kevEntry struct {
	CVEID                      string `json:"cveID"`
	DateAdded                  string `json:"dateAdded"`
	DueDate                    string `json:"dueDate"`
	RequiredAction             string `json:"requiredAction"`
	KnownRansomwareCampaignUse string `json:"knownRansomwareCampaignUse"`
}

// ParseKEV reads CISA's Known Exploited Vulnerabilities catalog JSON and
// sends one KEV enrichment per CVE. It returns the number of entries. CISA
// publishes no checksum for the file.
func ParseKEV(ctx context.Context, r io.Reader, sink vuln.Sink) (int, error) {
	lr := &io.LimitedReader{R: r, N: maxKEVSize + 1}
	var cat kevCatalog
	if err := json.NewDecoder(lr).Decode(&cat); err != nil {
		return 0, fmt.Errorf("KEV catalog: %w", err)
	}
	if lr.N <= 0 {
		return 0, fmt.Errorf("KEV catalog over %d bytes", maxKEVSize)
	}
	if cat.Vulnerabilities == nil {
		return 0, fmt.Errorf("KEV catalog has no vulnerabilities list")
	}
	n := 0
	for _, e := range cat.Vulnerabilities {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		cve := strings.TrimSpace(e.CVEID)
		if !strings.HasPrefix(cve, "CVE-") {
			continue
		}
		k := &vuln.KEV{DateAdded: e.DateAdded, DueDate: e.DueDate, RequiredAction: e.RequiredAction, KnownRansomwareCampaignUse: e.KnownRansomwareCampaignUse}
		if err := sink.Enrich(cve, vuln.Enrichment{KEV: k}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
