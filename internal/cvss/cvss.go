// Package cvss owns CVSS handling: parsing v2.0, v3.0, v3.1 and v4.0
// vectors, computing their base scores (with github.com/pandatix/go-cvss),
// and mapping scores to Vigil's severity levels.
package cvss

import (
	"errors"
	"fmt"
	"math"
	"strings"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxVectorLen bounds input; the longest valid v4.0 vector with every
// supplemental metric is well under this.
const maxVectorLen = 512

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid CVSS vector")

// Parse reads a CVSS vector and returns it with its version and computed
// base score. v2 vectors are accepted with or without the "(...)" wrapper
// NVD sometimes uses, and with a "CVSS:2.0/" prefix.
func Parse(vector string) (vuln.CVSS, error) {
	v := strings.TrimSpace(vector)
	if v == "" {
		return vuln.CVSS{}, fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(v) > maxVectorLen {
		return vuln.CVSS{}, fmt.Errorf("%w: %d bytes is too long", ErrInvalid, len(v))
	}
	wrap := func(version string, err error) error {
		return fmt.Errorf("%w %q (CVSS %s): %v", ErrInvalid, v, version, err)
	}
	switch {
	case strings.HasPrefix(v, "CVSS:4.0/"):
		c, err := gocvss40.ParseVector(v)
		if err != nil {
			return vuln.CVSS{}, wrap("4.0", err)
		}
		return vuln.CVSS{Version: "4.0", Vector: v, Score: round1(c.Score())}, nil
	case strings.HasPrefix(v, "CVSS:3.1/"):
		c, err := gocvss31.ParseVector(v)
		if err != nil {
			return vuln.CVSS{}, wrap("3.1", err)
		}
		return vuln.CVSS{Version: "3.1", Vector: v, Score: c.BaseScore()}, nil
	case strings.HasPrefix(v, "CVSS:3.0/"):
		c, err := gocvss30.ParseVector(v)
		if err != nil {
			return vuln.CVSS{}, wrap("3.0", err)
		}
		return vuln.CVSS{Version: "3.0", Vector: v, Score: c.BaseScore()}, nil
	case strings.HasPrefix(v, "CVSS:"):
		return vuln.CVSS{}, fmt.Errorf("%w %q: unsupported CVSS version", ErrInvalid, v)
	}
	v2 := strings.TrimPrefix(v, "CVSS:2.0/")
	if strings.HasPrefix(v2, "(") && strings.HasSuffix(v2, ")") {
		v2 = v2[1 : len(v2)-1]
	}
	c, err := gocvss20.ParseVector(v2)
	if err != nil {
		return vuln.CVSS{}, wrap("2.0", err)
	}
	return vuln.CVSS{Version: "2.0", Vector: v2, Score: c.BaseScore()}, nil
}

// round1 rounds to one decimal, as every CVSS score is published.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// SeverityFromScore maps a base score to a vuln.Severity* level with the
// rating scale of that CVSS version: v2 has LOW (0-3.9), MEDIUM (4-6.9) and
// HIGH (7-10); v3.x and v4.0 add CRITICAL (9-10), and a 0.0 score rates
// NONE, reported as NEGLIGIBLE. Out-of-range scores are UNKNOWN.
func SeverityFromScore(version string, score float64) string {
	if score < 0 || score > 10 || math.IsNaN(score) {
		return vuln.SeverityUnknown
	}
	if strings.HasPrefix(version, "2") {
		switch {
		case score >= 7:
			return vuln.SeverityHigh
		case score >= 4:
			return vuln.SeverityMedium
		}
		return vuln.SeverityLow
	}
	switch {
	case score >= 9:
		return vuln.SeverityCritical
	case score >= 7:
		return vuln.SeverityHigh
	case score >= 4:
		return vuln.SeverityMedium
	case score > 0:
		return vuln.SeverityLow
	}
	return vuln.SeverityNegligible
}
