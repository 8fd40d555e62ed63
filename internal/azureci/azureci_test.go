package azureci

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// readmeEvent is the sample ScanResult event of the action's README
// (github.com/Azure/publish-security-assessments), nested objects as such.
const readmeEvent = `{
    "name": "MS.CloudSecurity.CI.ScanResult",
    "properties": {
        "__version": "0.1",
        "context": {
            "artifactType": "containerImage",
            "artifactId": "sha256:d8a928b2043db77e340b523547bf16cb4aa483f0645fe0a290ed1f20aab76257",
            "requestId": "7a432b5e-dfbd-4a83-a72a-03c15a43606c",
            "token": "***"
        },
        "workflow": {
            "provider": "githubAction",
            "runUrl": "https://github.com/octocat/hello-world/actions/runs/12345",
            "repositoryUrl": "https://github.com/octocat/hello-world",
            "additionalData": {
                "GITHUB_REF": "refs/heads/check",
                "GITHUB_SHA": "eca0572326b3a8bb4423c8ab2482d1e9f59df6c3"
            }
        },
        "vulnscan": {
            "provider": "trivy",
            "scanTime": "2021-06-14T11:05:33.154Z",
            "identifiers": [
                {"severity": "HIGH", "type": "cve", "values": ["CVE-2018-12886", "CVE-2019-15847"]},
                {"severity": "CRITICAL", "type": "cve", "values": ["CVE-2019-20367", "CVE-2021-33574", "CVE-2021-20231"]}
            ],
            "allowList": []
        }
    }
}`

// envelope wraps event properties as the Node.js SDK does: every property
// value a string (objects as JSON text).
func envelope(t testing.TB, ikey string, stringify bool) string {
	t.Helper()
	var ev struct {
		Name       string                     `json:"name"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(readmeEvent), &ev); err != nil {
		t.Fatal(err)
	}
	props := map[string]any{}
	for k, v := range ev.Properties {
		if stringify {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v)
			}
			props[k] = s
		} else {
			props[k] = v
		}
	}
	b, _ := json.Marshal(map[string]any{
		"name": "Microsoft.ApplicationInsights." + strings.ReplaceAll(ikey, "-", "") + ".Event", "time": "2021-06-14T11:05:34.000Z",
		"iKey": ikey, "tags": map[string]string{"ai.cloud.roleInstance": "fv-az12"}, "ver": 1, "sampleRate": 100,
		"data": map[string]any{"baseType": "EventData", "baseData": map[string]any{"ver": 2, "name": ev.Name, "properties": props}},
	})
	return string(b)
}

func TestDecodeBatchShapes(t *testing.T) {
	one := envelope(t, "k", true)
	heartbeat := `{"name":"Microsoft.ApplicationInsights.k.Metric","iKey":"k","data":{"baseType":"MetricData","baseData":{"metrics":[]}}}`
	for name, body := range map[string]string{
		"single":        one,
		"ndjson":        one + "\n" + heartbeat + "\n",
		"array":         "[" + one + "," + heartbeat + "]",
		"leading space": "\n  " + one,
	} {
		t.Run(name, func(t *testing.T) {
			envs, err := Decode(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if !envs[0].IsScanResult() || envs[0].IKey != "k" {
				t.Fatalf("first item: %+v", envs[0])
			}
			if len(envs) == 2 && envs[1].IsScanResult() {
				t.Errorf("a metric taken for the scan result")
			}
		})
	}
	for name, body := range map[string]string{
		"empty":          "  ",
		"not json":       "hello",
		"array trailing": "[" + one + "] x",
		"unclosed":       "[" + one,
		"wrong type":     `{"data": 3}`,
		"too many":       strings.Repeat(`{}`+"\n", MaxItems+1),
	} {
		if _, err := Decode(strings.NewReader(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseScanResultBothPropertyForms(t *testing.T) {
	for _, stringify := range []bool{true, false} {
		envs, err := Decode(strings.NewReader(envelope(t, "k", stringify)))
		if err != nil {
			t.Fatal(err)
		}
		sr, err := ParseScanResult(envs[0].Data.BaseData.Properties)
		if err != nil {
			t.Fatalf("stringify=%v: %v", stringify, err)
		}
		name, digest, _ := sr.Image()
		if name != "" || digest != "sha256:d8a928b2043db77e340b523547bf16cb4aa483f0645fe0a290ed1f20aab76257" {
			t.Errorf("image %q %q", name, digest)
		}
		if sr.Provider() != "github-actions" || sr.RunID() != "12345" || sr.Repository() != "octocat/hello-world" ||
			sr.Workflow.AdditionalData["GITHUB_SHA"] != "eca0572326b3a8bb4423c8ab2482d1e9f59df6c3" || sr.Context.RequestID == "" {
			t.Errorf("workflow: %+v", sr)
		}
		fs := sr.Findings()
		if len(fs) != 5 || fs[0].ID != "CVE-2018-12886" || fs[0].Severity != "HIGH" || fs[4].Severity != "CRITICAL" || fs[0].Package.Name != "" {
			t.Errorf("findings: %+v", fs)
		}
		// The subscription token is never kept.
		b, _ := json.Marshal(sr)
		if strings.Contains(string(b), "***") || strings.Contains(string(b), "token") {
			t.Errorf("stored form keeps the token: %s", b)
		}
	}
}

func TestParseScanResultErrors(t *testing.T) {
	base := func() map[string]json.RawMessage {
		envs, _ := Decode(strings.NewReader(envelope(t, "k", false)))
		return envs[0].Data.BaseData.Properties
	}
	cases := map[string]func(p map[string]json.RawMessage){
		"no context":    func(p map[string]json.RawMessage) { delete(p, "context") },
		"object Object": func(p map[string]json.RawMessage) { p["vulnscan"] = json.RawMessage(`"[object Object]"`) },
		"bad digest": func(p map[string]json.RawMessage) {
			p["context"] = json.RawMessage(`{"artifactType":"containerImage","artifactId":"sha256:12"}`)
		},
		"not an image": func(p map[string]json.RawMessage) {
			p["context"] = json.RawMessage(`{"artifactType":"npmPackage","artifactId":"x"}`)
		},
		"empty id": func(p map[string]json.RawMessage) {
			p["vulnscan"] = json.RawMessage(`{"identifiers":[{"type":"cve","values":[""]}]}`)
		},
		"version object":  func(p map[string]json.RawMessage) { p["__version"] = json.RawMessage(`{}`) },
		"workflow number": func(p map[string]json.RawMessage) { p["workflow"] = json.RawMessage(`7`) },
	}
	for name, mutate := range cases {
		p := base()
		mutate(p)
		if _, err := ParseScanResult(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	p := base()
	p["context"] = json.RawMessage(`{"artifactType":"containerImage","artifactId":"registry.example.com/shop/api@sha256:d8a928b2043db77e340b523547bf16cb4aa483f0645fe0a290ed1f20aab76257"}`)
	sr, err := ParseScanResult(p)
	if err != nil {
		t.Fatal(err)
	}
	if name, _, _ := sr.Image(); name != "registry.example.com/shop/api" {
		t.Errorf("name from artifact id: %q", name)
	}
}

func TestAllowListSuppresses(t *testing.T) {
	envs, _ := Decode(strings.NewReader(envelope(t, "k", false)))
	p := envs[0].Data.BaseData.Properties
	p["vulnscan"] = json.RawMessage(`{"provider":"trivy","identifiers":[{"severity":"LOW","type":"cve","values":["CVE-2019-15847"]},{"severity":"HIGH","type":"cve","values":["CVE-2019-15847","CVE-2018-12886"]}],"allowList":[{"type":"cve","values":["CVE-2018-12886"]}]}`)
	sr, err := ParseScanResult(p)
	if err != nil {
		t.Fatal(err)
	}
	fs := sr.Findings()
	if len(fs) != 2 || fs[0].Severity != "HIGH" || fs[0].Suppressed != nil || fs[1].Suppressed == nil {
		t.Errorf("findings: %+v", fs)
	}
}

// FuzzDecode: any body gives envelopes or an error, never a panic, and
// every event's properties parse or fail cleanly.
func FuzzDecode(f *testing.F) {
	f.Add(envelope(f, "k", true))
	f.Add("[" + envelope(f, "k", false) + "]")
	f.Add(envelope(f, "k", true) + "\n" + envelope(f, "j", false))
	f.Add(`{"data":{"baseType":"EventData","baseData":{"name":"ms.cloudsecurity.ci.scanresult","properties":{"context":"{\"artifactType\":\"containerImage\",\"artifactId\":\"a@sha256:d8a928b2043db77e340b523547bf16cb4aa483f0645fe0a290ed1f20aab76257\"}","workflow":"{}","vulnscan":"{\"identifiers\":[{}]}"}}}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		envs, err := Decode(strings.NewReader(body))
		if err != nil {
			return
		}
		if len(envs) > MaxItems {
			t.Fatalf("%d items", len(envs))
		}
		for _, e := range envs {
			sr, err := ParseScanResult(e.Data.BaseData.Properties)
			if err != nil {
				continue
			}
			if _, d, err := sr.Image(); err != nil || !digestRE.MatchString(d) {
				t.Fatalf("accepted event without a digest: %v", err)
			}
			sr.Findings()
			sr.RunID()
			sr.Repository()
		}
	})
}

func TestFirstIKey(t *testing.T) {
	one := envelope(t, "k1", true) // "data" before "iKey", as the SDK writes
	for name, c := range map[string]struct {
		body  string
		key   string
		found bool
	}{
		"ndjson":            {one + "\n" + envelope(t, "k2", true), "k1", true},
		"array":             {"[" + one + "]", "k1", true},
		"key first":         {`{"iKey":"k3","data":{"x":[1,{"iKey":"no"}]}} garbage`, "k3", true},
		"other case":        {`{"ikey":"k4"}`, "k4", true},
		"nested not top":    {`{"data":{"iKey":"no"}}`, "", true},
		"null":              {`{"iKey":null}`, "", true},
		"empty body":        {" \n", "", false},
		"empty array":       {"[]", "", false},
		"first of two only": {`{"name":"x"}` + "\n" + envelope(t, "k2", true), "", true},
	} {
		key, found, err := FirstIKey(strings.NewReader(c.body))
		if err != nil || key != c.key || found != c.found {
			t.Errorf("%s: %q %v %v, want %q %v", name, key, found, err, c.key, c.found)
		}
	}
	for name, body := range map[string]string{
		"not json":   "hello",
		"number":     "3",
		"unclosed":   `{"data":{"a":1`,
		"key object": `{"iKey":{}}`,
	} {
		if _, _, err := FirstIKey(strings.NewReader(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// It stops at the key: what follows is never read.
	r := &countReader{r: io.MultiReader(strings.NewReader(`{"iKey":"k"}`), strings.NewReader(strings.Repeat(" ", 1<<20)))}
	if key, _, _ := FirstIKey(r); key != "k" || r.n > 64<<10 {
		t.Errorf("key %q after reading %d bytes", key, r.n)
	}
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
