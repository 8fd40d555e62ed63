// Package azureci reads what Azure/publish-security-assessments sends: an
// Application Insights custom event named MS.CloudSecurity.CI.ScanResult,
// posted by the Application Insights SDK to its ingestion endpoint
// (POST <IngestionEndpoint>/v2/track or /v2.1/track) as envelopes
//
//	{"name":"Microsoft.ApplicationInsights.<ikey>.Event","time":"…","iKey":"…",
//	 "data":{"baseType":"EventData","baseData":{"name":"MS.CloudSecurity.CI.ScanResult","properties":{…}}}}
//
// one JSON object per line (the Node.js SDK, gzip-compressed) or as a JSON
// array (the browser SDK). Application Insights properties are strings: the
// SDK sends the nested context, workflow and vulnscan objects as JSON text;
// both that and plain nested objects are accepted.
//
// No library reads Application Insights envelopes in Go (Microsoft's SDKs
// only write them), so this small decoder is written here.
package azureci

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/vigil-scan/vigil/internal/jsontok"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// EventName is the custom event the action sends. The action's code spells
// it "Ms.CloudSecurity.CI.ScanResult", its README "MS.…": names compare
// without case.
const EventName = "MS.CloudSecurity.CI.ScanResult"

// MaxItems bounds the envelopes of one request (the Node.js SDK batches at
// most 250).
const MaxItems = 1000

// Envelope is one telemetry item.
type Envelope struct {
	Name string `json:"name"`
	Time string `json:"time"`
	IKey string `json:"iKey"`
	Data struct {
		BaseType string `json:"baseType"`
		BaseData struct {
			Name       string                     `json:"name"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"baseData"`
	} `json:"data"`
}

// IsScanResult reports whether the item is the action's event (anything
// else an SDK sends, heartbeats for example, is not for Vigil).
func (e *Envelope) IsScanResult() bool {
	return e.Data.BaseType == "EventData" && strings.EqualFold(e.Data.BaseData.Name, EventName)
}

// ErrTooMany is returned for a batch of more than MaxItems envelopes.
var ErrTooMany = fmt.Errorf("more than %d telemetry items in one request", MaxItems)

// Decode reads a batch: a JSON array of envelopes, or envelopes one after
// another (newline-delimited, as the Node.js SDK sends them). The reader
// must be bounded by the caller; errors from it (a size limit) are returned
// as they are, wrapped.
func Decode(r io.Reader) ([]Envelope, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty body: want telemetry envelopes")
		}
		return nil, err
	}
	dec := json.NewDecoder(br)
	var out []Envelope
	if first == '[' {
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		for dec.More() {
			var e Envelope
			if err := dec.Decode(&e); err != nil {
				return nil, fmt.Errorf("item %d: invalid envelope: %w", len(out), err)
			}
			if out = append(out, e); len(out) > MaxItems {
				return nil, ErrTooMany
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errors.New("invalid JSON: data after the array")
		}
		return out, nil
	}
	for {
		var e Envelope
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("item %d: invalid envelope: %w", len(out), err)
		}
		if out = append(out, e); len(out) > MaxItems {
			return nil, ErrTooMany
		}
	}
	return out, nil
}

// FirstIKey reads a batch only as far as its first envelope's iKey, so a
// request can be authenticated and rate-limited before the rest of its body
// is read: the SDK sends no credential outside the envelopes. found is false
// when the batch has no first envelope (an empty body or array: Decode says
// what is wrong); key is "" when the first envelope has none. Keys match
// without case, as Decode's do. The Node.js SDK writes "data" before "iKey",
// so the first envelope is read up to its end; the caller bounds the reader.
func FirstIKey(r io.Reader) (key string, found bool, err error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("invalid JSON: %w", err)
	}
	if tok == json.Delim('[') {
		if !dec.More() {
			return "", false, nil
		}
		if tok, err = dec.Token(); err != nil {
			return "", false, fmt.Errorf("item 0: invalid envelope: %w", err)
		}
	}
	if tok != json.Delim('{') {
		return "", false, errors.New("item 0: invalid envelope: want a JSON object")
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", false, fmt.Errorf("item 0: invalid envelope: %w", err)
		}
		if name, _ := k.(string); strings.EqualFold(name, "iKey") {
			v, err := dec.Token()
			if err != nil {
				return "", false, fmt.Errorf("item 0: invalid envelope: %w", err)
			}
			switch v := v.(type) {
			case string:
				return v, true, nil
			case nil:
				return "", true, nil
			}
			return "", false, errors.New("item 0: invalid envelope: iKey is not a string")
		}
		if err := jsontok.SkipValue(dec); err != nil {
			return "", false, fmt.Errorf("item 0: invalid envelope: %w", err)
		}
	}
	return "", true, nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

// ScanResult is the event's properties (Azure/publish-security-assessments
// src/azure/scanResultContracts.ts, "__version" 0.1).
type ScanResult struct {
	Version string `json:"__version"`
	Context struct {
		ArtifactType string `json:"artifactType"`
		ArtifactID   string `json:"artifactId"`
		RequestID    string `json:"requestId"`
		// The subscription token (Defender's) is not read: never stored.
	} `json:"context"`
	Workflow struct {
		Provider       string            `json:"provider"`
		RunURL         string            `json:"runUrl"`
		RepositoryURL  string            `json:"repositoryUrl"`
		AdditionalData map[string]string `json:"additionalData"`
	} `json:"workflow"`
	Vulnscan struct {
		Provider    string        `json:"provider"`
		ScanTime    string        `json:"scanTime"`
		Identifiers []Identifiers `json:"identifiers"`
		AllowList   []Identifiers `json:"allowList"`
	} `json:"vulnscan"`
}

// Identifiers are vulnerability ids of one type (and severity).
type Identifiers struct {
	Severity string   `json:"severity,omitempty"`
	Type     string   `json:"type"`
	Values   []string `json:"values"`
}

var digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// Limits on what one event may carry.
const (
	maxIDs     = 100000
	maxIDLen   = 200
	maxTextLen = 2048
)

// ParseScanResult reads the event's properties: each of context, workflow
// and vulnscan is JSON text (what the SDK sends) or a JSON object.
func ParseScanResult(props map[string]json.RawMessage) (*ScanResult, error) {
	var sr ScanResult
	if v, ok := props["__version"]; ok {
		if err := json.Unmarshal(v, &sr.Version); err != nil {
			return nil, errors.New("__version: want a string")
		}
	}
	for _, p := range []struct {
		name string
		dst  any
	}{{"context", &sr.Context}, {"workflow", &sr.Workflow}, {"vulnscan", &sr.Vulnscan}} {
		raw, ok := props[p.name]
		if !ok {
			return nil, fmt.Errorf("property %s is missing", p.name)
		}
		if err := decodeProperty(raw, p.dst); err != nil {
			return nil, fmt.Errorf("property %s: %w", p.name, err)
		}
	}
	if !strings.EqualFold(sr.Context.ArtifactType, "containerImage") {
		return nil, fmt.Errorf("context.artifactType %q: only containerImage is supported", sr.Context.ArtifactType)
	}
	if _, _, err := sr.Image(); err != nil {
		return nil, err
	}
	if len(sr.Context.RequestID) > maxIDLen {
		return nil, errors.New("context.requestId too long")
	}
	n := 0
	for _, list := range [][]Identifiers{sr.Vulnscan.Identifiers, sr.Vulnscan.AllowList} {
		for _, ids := range list {
			for _, v := range ids.Values {
				if n++; n > maxIDs {
					return nil, fmt.Errorf("more than %d vulnerability ids", maxIDs)
				}
				if v == "" || len(v) > maxIDLen {
					return nil, fmt.Errorf("vulnerability id %.40q: want 1 to %d characters", v, maxIDLen)
				}
			}
		}
	}
	for name, s := range map[string]string{"workflow.runUrl": sr.Workflow.RunURL, "workflow.repositoryUrl": sr.Workflow.RepositoryURL, "workflow.provider": sr.Workflow.Provider, "vulnscan.provider": sr.Vulnscan.Provider} {
		if len(s) > maxTextLen {
			return nil, fmt.Errorf("%s too long", name)
		}
	}
	for k, v := range sr.Workflow.AdditionalData {
		if len(k) > maxIDLen || len(v) > maxTextLen {
			return nil, fmt.Errorf("workflow.additionalData.%.40s too long", k)
		}
	}
	return &sr, nil
}

// decodeProperty decodes an object given as itself or as JSON text.
func decodeProperty(raw json.RawMessage, dst any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if strings.HasPrefix(s, "[object") {
			return errors.New(`sent as "[object Object]": the sender's SDK dropped the nested object`)
		}
		raw = []byte(s)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("want a JSON object: %w", err)
	}
	return nil
}

// Image returns the image's digest and, when the action's artifact-id input
// named it (name@sha256:…), its name. The action's default artifact id is
// the bare digest from `docker inspect`.
func (sr *ScanResult) Image() (name, digest string, err error) {
	id := strings.TrimSpace(sr.Context.ArtifactID)
	if at := strings.LastIndexByte(id, '@'); at >= 0 {
		name, id = id[:at], id[at+1:]
	}
	if !digestRE.MatchString(id) {
		return "", "", fmt.Errorf("context.artifactId %.100q: want sha256:<64 hex> or NAME@sha256:<64 hex>", sr.Context.ArtifactID)
	}
	if len(name) > 1000 {
		return "", "", errors.New("context.artifactId: image name too long")
	}
	return name, id, nil
}

// Provider maps the action's workflow provider to Vigil's CI provider
// names (docs/publish.md).
func (sr *ScanResult) Provider() string {
	switch p := sr.Workflow.Provider; p {
	case "githubAction", "githubActions", "github":
		return "github-actions"
	case "azureDevOps", "azurePipelines":
		return "azure-pipelines"
	default:
		return p
	}
}

// RunID is the run's number from a GitHub Actions run URL
// (…/actions/runs/<id>[/attempts/<n>]).
func (sr *ScanResult) RunID() string {
	u, err := url.Parse(sr.Workflow.RunURL)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "runs" {
			return parts[i+1]
		}
	}
	return ""
}

// Repository is "owner/name" from the repository URL.
func (sr *ScanResult) Repository() string {
	u, err := url.Parse(sr.Workflow.RepositoryURL)
	if err != nil {
		return ""
	}
	return strings.Trim(u.Path, "/")
}

// Findings are the scan's vulnerabilities as findings without a package
// (the event only names ids and severities); ids on the allow list are
// suppressed. An id listed under two severities keeps the higher.
func (sr *ScanResult) Findings() []vuln.Finding {
	allowed := map[string]bool{}
	for _, ids := range sr.Vulnscan.AllowList {
		for _, v := range ids.Values {
			allowed[v] = true
		}
	}
	source := "ci:" + sr.Vulnscan.Provider
	index := map[string]int{}
	var out []vuln.Finding
	for _, ids := range sr.Vulnscan.Identifiers {
		sev := vuln.NormalizeSeverity(ids.Severity)
		for _, v := range ids.Values {
			if i, ok := index[v]; ok {
				if vuln.SeverityRank(sev) > vuln.SeverityRank(out[i].Severity) {
					out[i].Severity = sev
				}
				continue
			}
			f := vuln.Finding{ID: v, Severity: sev, SeveritySource: source, FixState: vuln.FixStateUnknown}
			if allowed[v] {
				f.Suppressed = &vuln.Suppression{Kind: "allowlist", Rule: "publish-security-assessments allowList"}
			}
			index[v] = len(out)
			out = append(out, f)
		}
	}
	return out
}
