package feeds

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxNVDPageSize bounds one NVD API page (2000 CVEs are ~30 MB).
const maxNVDPageSize = 256 << 20

// nvdPageSize is the API maximum for resultsPerPage.
const nvdPageSize = 2000

// Pager fetches a feed split over numbered pages.
type Pager struct {
	// URL returns the location of page n, which starts at index start.
	URL func(n, start int) string
	// Size is the number of results per page.
	Size int
	// Parse imports one page and returns its records and the total the
	// feed announced.
	Parse func(ctx context.Context, r io.Reader, sink vuln.Sink) (records, total int, err error)
	// Header is sent with every request (NVD apiKey).
	Header http.Header
	// Delay waits between pages (NVD allows 5 requests per 30 s without a
	// key, 50 with one).
	Delay time.Duration
}

func nvdFeed(cfg config.Config) Feed {
	n := cfg.Feeds.NVD
	p := &Pager{Size: nvdPageSize, Parse: ParseNVDPage, Header: http.Header{}}
	switch {
	case n.URL == "" && cfg.Mirror != "":
		// A mirror holds the API answers as files: nvd/page-0000.json, ...
		base := join(cfg.Mirror, "nvd")
		p.URL = func(n, _ int) string { return join(base, fmt.Sprintf("page-%04d.json", n)) }
	default:
		base := n.URL
		if base == "" {
			base = UpstreamNVD
			p.Delay = 6 * time.Second
			if n.APIKey != "" {
				p.Delay = 600 * time.Millisecond
			}
		}
		p.URL = func(_, start int) string {
			u, err := url.Parse(base)
			if err != nil {
				return base
			}
			q := u.Query()
			q.Set("startIndex", strconv.Itoa(start))
			q.Set("resultsPerPage", strconv.Itoa(nvdPageSize))
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	if n.APIKey != "" {
		p.Header.Set("apiKey", n.APIKey)
	}
	return Feed{
		Name:    "nvd",
		Default: n.Enabled || n.APIKey != "" || cfg.Mirror != "" || n.URL != "",
		Pages:   p,
	}
}

type nvdPage struct {
	ResultsPerPage  int `json:"resultsPerPage"`
	StartIndex      int `json:"startIndex"`
	TotalResults    int `json:"totalResults"`
	Vulnerabilities []struct {
		CVE struct {
			ID      string                 `json:"id"`
			Metrics map[string][]nvdMetric `json:"metrics"`
		} `json:"cve"`
	} `json:"vulnerabilities"`
}

type nvdMetric struct {
	Source   string `json:"source"`
	Type     string `json:"type"`
	CVSSData struct {
		Version      string  `json:"version"`
		VectorString string  `json:"vectorString"`
		BaseScore    float64 `json:"baseScore"`
		BaseSeverity string  `json:"baseSeverity"`
	} `json:"cvssData"`
	// CVSS v2 puts the severity beside cvssData.
	BaseSeverity string `json:"baseSeverity"`
}

// nvdMetricKeys in order of preference for NVD's own severity.
var nvdMetricKeys = [...]string{"cvssMetricV31", "cvssMetricV30", "cvssMetricV40", "cvssMetricV2"}

// ParseNVDPage reads one page of the NVD CVE API 2.0 and sends the CVSS
// vectors of each CVE as enrichment; NVDSeverity is taken from the primary
// (NVD's own) metric, preferring v3.1, v3.0, v4.0, then v2. It returns the
// number of CVEs on the page and the API's totalResults.
func ParseNVDPage(ctx context.Context, r io.Reader, sink vuln.Sink) (int, int, error) {
	lr := &io.LimitedReader{R: r, N: maxNVDPageSize + 1}
	var page nvdPage
	if err := json.NewDecoder(lr).Decode(&page); err != nil {
		return 0, 0, fmt.Errorf("NVD page: %w", err)
	}
	if lr.N <= 0 {
		return 0, 0, fmt.Errorf("NVD page over %d bytes", maxNVDPageSize)
	}
	n := 0
	for _, v := range page.Vulnerabilities {
		if err := ctx.Err(); err != nil {
			return n, page.TotalResults, err
		}
		if !strings.HasPrefix(v.CVE.ID, "CVE-") {
			continue
		}
		var e vuln.Enrichment
		for _, key := range nvdMetricKeys {
			for _, m := range v.CVE.Metrics[key] {
				if m.CVSSData.VectorString == "" {
					continue
				}
				src := m.Source
				if src == "nvd@nist.gov" || src == "" {
					src = "nvd"
				}
				e.CVSS = append(e.CVSS, vuln.CVSS{Version: m.CVSSData.Version, Vector: m.CVSSData.VectorString, Score: m.CVSSData.BaseScore, Source: src})
				if e.NVDSeverity == "" && (m.Type == "Primary" || m.Type == "") {
					e.NVDSeverity = vuln.NormalizeSeverity(cmp.Or(m.CVSSData.BaseSeverity, m.BaseSeverity))
				}
			}
		}
		if len(e.CVSS) == 0 {
			n++
			continue
		}
		if err := sink.Enrich(v.CVE.ID, e); err != nil {
			return n, page.TotalResults, err
		}
		n++
	}
	return n, page.TotalResults, nil
}
