package report

import (
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// GitLab container-scanning report, security-report-schemas 15.x
// (dist/container-scanning-report-format.json).

const gitlabSchemaVersion = "15.2.4"

type gitlabReport struct {
	Version         string       `json:"version"`
	Schema          string       `json:"schema,omitempty"`
	Scan            gitlabScan   `json:"scan"`
	Vulnerabilities []gitlabVuln `json:"vulnerabilities"`
}

type gitlabScan struct {
	Analyzer  gitlabTool `json:"analyzer"`
	Scanner   gitlabTool `json:"scanner"`
	Type      string     `json:"type"`
	StartTime string     `json:"start_time"`
	EndTime   string     `json:"end_time"`
	Status    string     `json:"status"`
	// Messages say what the scan could not judge.
	Messages []gitlabMessage `json:"messages,omitempty"`
}

type gitlabTool struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	URL     string       `json:"url,omitempty"`
	Version string       `json:"version"`
	Vendor  gitlabVendor `json:"vendor"`
}

type gitlabVendor struct {
	Name string `json:"name"`
}

type gitlabVuln struct {
	ID          string             `json:"id"`
	Name        string             `json:"name,omitempty"`
	Description string             `json:"description,omitempty"`
	Severity    string             `json:"severity"`
	Solution    string             `json:"solution,omitempty"`
	Identifiers []gitlabIdentifier `json:"identifiers"`
	CVSSVectors []gitlabCVSS       `json:"cvss_vectors,omitempty"`
	Links       []gitlabLink       `json:"links,omitempty"`
	Location    gitlabLocation     `json:"location"`
}

type gitlabIdentifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url,omitempty"`
}

type gitlabCVSS struct {
	Vendor string `json:"vendor"`
	Vector string `json:"vector"`
}

type gitlabLink struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
}

type gitlabLocation struct {
	Dependency      gitlabDependency `json:"dependency"`
	OperatingSystem string           `json:"operating_system"`
	Image           string           `json:"image"`
}

type gitlabDependency struct {
	Package gitlabPackage `json:"package"`
	Version string        `json:"version"`
}

type gitlabPackage struct {
	Name string `json:"name"`
}

var gitlabSeverity = map[string]string{
	vuln.SeverityCritical:   "Critical",
	vuln.SeverityHigh:       "High",
	vuln.SeverityMedium:     "Medium",
	vuln.SeverityLow:        "Low",
	vuln.SeverityNegligible: "Info",
	vuln.SeverityUnknown:    "Unknown",
}

// Vector patterns from the schema's cvss_vectors: GitLab rejects the whole
// report when one vector does not match, so only matching ones are sent.
// Compiled on first use: they are large, and every vigil process (a cached
// re-scan takes ~40 ms) would otherwise compile them at start.
var gitlabVectorPatterns = sync.OnceValue(func() []*regexp.Regexp {
	return []*regexp.Regexp{
		regexp.MustCompile(`^((AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))/)*(AV:[NAL]|AC:[LMH]|Au:[MSN]|[CIA]:[NPC]|E:(U|POC|F|H|ND)|RL:(OF|TF|W|U|ND)|RC:(UC|UR|C|ND)|CDP:(N|L|LM|MH|H|ND)|TD:(N|L|M|H|ND)|[CIA]R:(L|M|H|ND))$`),
		regexp.MustCompile(`^CVSS:3[.][01]/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$`),
		regexp.MustCompile(`^CVSS:4[.]0/AV:[NALP]/AC:[LH]/AT:[NP]/PR:[NLH]/UI:[NPA]/VC:[HLN]/VI:[HLN]/VA:[HLN]/SC:[HLN]/SI:[HLN]/SA:[HLN](/E:[XAPU])?(/CR:[XHML])?(/IR:[XHML])?(/AR:[XHML])?(/MAV:[XNALP])?(/MAC:[XLH])?(/MAT:[XNP])?(/MPR:[XNLH])?(/MUI:[XNPA])?(/MVC:[XNLH])?(/MVI:[XNLH])?(/MVA:[XNLH])?(/MSC:[XNLH])?(/MSI:[XNLHS])?(/MSA:[XNLHS])?(/S:[XNP])?(/AU:[XNY])?(/R:[XAUI])?(/V:[XDC])?(/RE:[XLMH])?(/U:(X|Clear|Green|Amber|Red))?$`),
	}
})

var gitlabURL = regexp.MustCompile(`^(https?|ftp)://.+`)

func gitlabVector(v string) (string, bool) {
	v = strings.TrimPrefix(v, "CVSS:2.0/")
	if len(v) < 16 || len(v) > 256 {
		return "", false
	}
	for _, re := range gitlabVectorPatterns() {
		if re.MatchString(v) {
			return v, true
		}
	}
	return "", false
}

// identifierType is GitLab's identifier type for an advisory id prefix.
func identifierType(id string) string {
	prefix, _, _ := strings.Cut(id, "-")
	switch p := strings.ToLower(prefix); p {
	case "cve", "ghsa", "cwe", "usn", "rhsa", "elsa", "alsa", "dsa", "dla", "go", "pysec", "rustsec", "osv":
		return p
	}
	return "vendor"
}

func writeGitLab(w io.Writer, r *result.Report, _ Options) error {
	ts := r.CreatedAt.UTC().Format("2006-01-02T15:04:05")
	version := r.Tool.Version
	if version == "" {
		version = "unknown"
	}
	tool := gitlabTool{ID: "vigil", Name: "Vigil", URL: vigilInformationURI, Version: version, Vendor: gitlabVendor{Name: "Vigil"}}
	out := gitlabReport{
		Version: gitlabSchemaVersion,
		Scan: gitlabScan{
			Analyzer: tool, Scanner: tool, Type: "container_scanning",
			StartTime: ts, EndTime: ts, Status: "success",
			Messages: gitlabMessages(r),
		},
		Vulnerabilities: []gitlabVuln{},
	}
	osName := strings.TrimSpace(r.Artifact.OS.Family + " " + r.Artifact.OS.Version)
	if osName == "" {
		osName = "unknown"
	}
	image := artifactName(r.Artifact)
	for _, f := range sortedFindings(r.Vulnerabilities) {
		if f.Suppressed != nil {
			continue
		}
		out.Vulnerabilities = append(out.Vulnerabilities, gitlabFinding(f, osName, image))
	}
	return encodeIndented(w, out, "  ")
}

func gitlabFinding(f vuln.Finding, osName, image string) gitlabVuln {
	sev, ok := gitlabSeverity[f.Severity]
	if !ok {
		sev = "Unknown"
	}
	ids := []gitlabIdentifier{{Type: identifierType(f.ID), Name: f.ID, Value: f.ID, URL: advisoryURL(f.ID)}}
	for _, a := range f.Aliases {
		if a != "" && a != f.ID {
			ids = append(ids, gitlabIdentifier{Type: identifierType(a), Name: a, Value: a, URL: advisoryURL(a)})
		}
	}
	var vectors []gitlabCVSS
	for _, c := range f.CVSS {
		if v, ok := gitlabVector(c.Vector); ok && len(vectors) < 10 {
			vendor := c.Source
			if vendor == "" {
				vendor = "unknown"
			}
			vectors = append(vectors, gitlabCVSS{Vendor: vendor, Vector: v})
		}
	}
	var links []gitlabLink
	for _, ref := range f.References {
		if gitlabURL.MatchString(ref) {
			links = append(links, gitlabLink{URL: ref})
		}
	}
	desc := f.Description
	if desc == "" {
		desc = f.Title
	}
	name := f.ID
	if f.Title != "" {
		name = f.ID + ": " + oneLine(f.Title)
	}
	version := f.Package.Version
	pkgName := f.Package.Name
	return gitlabVuln{
		// GitLab recommends a UUID; a hash of the finding's identity keeps it
		// stable across pipelines so GitLab tracks one vulnerability, not many.
		ID:          uuidLike(fingerprint(f.ID, pkgName, version, f.Package.Path, image)),
		Name:        truncate(name, 255),
		Description: truncate(desc, 1<<20),
		Severity:    sev,
		Solution:    truncate(remediation(f), 7000),
		Identifiers: ids,
		CVSSVectors: vectors,
		Links:       links,
		Location: gitlabLocation{
			Dependency:      gitlabDependency{Package: gitlabPackage{Name: pkgName}, Version: version},
			OperatingSystem: osName,
			Image:           image,
		},
	}
}

// uuidLike formats the first 32 hex digits of a hash as a UUID.
func uuidLike(hexDigits string) string {
	h := hexDigits[:32]
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
