package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/store"
)

// scanResultEvent is the action's MS.CloudSecurity.CI.ScanResult event as
// its README documents it, for digest; the vulnerabilities are the README's.
func scanResultEvent(digest, requestID string) map[string]any {
	return map[string]any{
		"__version": "0.1",
		"context":   map[string]any{"artifactType": "containerImage", "artifactId": digest, "requestId": requestID, "token": "sub.secret"},
		"workflow": map[string]any{"provider": "githubAction", "runUrl": "https://github.com/octocat/hello-world/actions/runs/12345",
			"repositoryUrl":  "https://github.com/octocat/hello-world",
			"additionalData": map[string]any{"GITHUB_REF": "refs/heads/check", "GITHUB_SHA": "eca0572326b3a8bb4423c8ab2482d1e9f59df6c3"}},
		"vulnscan": map[string]any{"provider": "trivy", "scanTime": "2021-06-14T11:05:33.154Z", "allowList": []any{},
			"identifiers": []any{
				map[string]any{"severity": "HIGH", "type": "cve", "values": []string{"CVE-2018-12886", "CVE-2019-15847"}},
				map[string]any{"severity": "CRITICAL", "type": "cve", "values": []string{"CVE-2019-20367", "CVE-2021-33574", "CVE-2021-20231"}},
			}},
	}
}

// sdkEnvelope is what the Application Insights Node.js SDK (1.8, the
// action's) makes of trackEvent: properties turned into strings, objects
// into JSON text.
func sdkEnvelope(ikey string, props map[string]any) []byte {
	str := map[string]string{}
	for k, v := range props {
		if s, ok := v.(string); ok {
			str[k] = s
			continue
		}
		b, _ := json.Marshal(v)
		str[k] = string(b)
	}
	b, _ := json.Marshal(map[string]any{
		"name": "Microsoft.ApplicationInsights." + strings.ReplaceAll(ikey, "-", "") + ".Event",
		"time": "2021-06-14T11:05:34.000Z", "iKey": ikey, "ver": 1, "sampleRate": 100,
		"tags": map[string]string{"ai.cloud.roleInstance": "fv-az12", "ai.internal.sdkVersion": "node:1.8.7"},
		"data": map[string]any{"baseType": "EventData", "baseData": map[string]any{"ver": 2, "name": "Ms.CloudSecurity.CI.ScanResult", "properties": str}},
	})
	return b
}

type trackAnswer struct {
	ItemsReceived int `json:"itemsReceived"`
	ItemsAccepted int `json:"itemsAccepted"`
	Errors        []struct {
		Index      int    `json:"index"`
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	} `json:"errors"`
	Error string `json:"error"`
}

// track posts envelopes the way the Node.js SDK sends them: newline-
// delimited JSON, gzip-compressed, to <IngestionEndpoint>/v2.1/track.
func (e *env) track(envs [][]byte, gz bool, path string, want int) trackAnswer {
	e.t.Helper()
	body := bytes.Join(envs, []byte("\n"))
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	return e.trackRaw(body, gz, path, want)
}

func (e *env) trackRaw(body []byte, gz bool, path string, want int) trackAnswer {
	e.t.Helper()
	if path == "" {
		path = "/api/v1/ingest/azure/v2.1/track"
	}
	req, _ := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-json-stream")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out trackAnswer
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("track answer: %v: %s", err, b)
	}
	if resp.StatusCode != want {
		e.t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, b)
	}
	return out
}

// Azure/publish-security-assessments pointed at Vigil: its events are
// stored as CI runs, once per replay, linked to the registry image with
// the digest whichever arrives first.
func TestAzureScanResultIngestion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend, feedMirror(t, "v3.10"))
		e.startRegistry("s")
		ctx := context.Background()
		ingest, _ := e.st.CreateToken(ctx, "acme", store.ScopeIngest)

		// CI first: an image only CI knows, with the event's findings.
		vulnerable := alpineImage(t, true)
		d, _ := vulnerable.Digest()
		ciFirst := d.String()
		ev := sdkEnvelope(ingest, scanResultEvent(ciFirst, "7a432b5e-dfbd-4a83-a72a-03c15a43606c"))
		got := e.track([][]byte{ev}, true, "", 200)
		if got.ItemsReceived != 1 || got.ItemsAccepted != 1 || got.Errors == nil || len(got.Errors) != 0 {
			t.Fatalf("answer: %+v", got)
		}
		var im store.Image
		e.do("GET", "/api/v1/images/"+ciFirst, e.admin, nil, 200, &im)
		if im.RegistryID != "" || im.Counts.Critical != 3 || im.Counts.High != 2 || len(im.CI) != 1 {
			t.Fatalf("CI-only image: %+v", im)
		}
		run := im.CI[0]
		if run.Provider != "github-actions" || run.RunID != "12345" || run.RunURL != "https://github.com/octocat/hello-world/actions/runs/12345" ||
			run.Repository != "octocat/hello-world" || run.Commit != "eca0572326b3a8bb4423c8ab2482d1e9f59df6c3" || run.Ref != "refs/heads/check" {
			t.Errorf("CI run: %+v", run)
		}
		// The SDK's retry (same envelope) and the browser SDK's form (a JSON
		// array, uncompressed, at /v2/track) of the same event: stored once.
		e.track([][]byte{ev}, true, "", 200)
		e.trackRaw([]byte("["+string(ev)+"]"), false, "/api/v1/ingest/azure/v2/track", 200)
		e.do("GET", "/api/v1/images/"+ciFirst, e.admin, nil, 200, &im)
		if len(im.CI) != 1 {
			t.Errorf("replays stored %d runs", len(im.CI))
		}
		// The registry push comes after: the registry image takes the run.
		e.push(vulnerable, "shop/api:1.4")
		deadline := time.Now().Add(60 * time.Second)
		for {
			e.do("GET", "/api/v1/images/"+ciFirst, e.admin, nil, 200, &im)
			if im.RegistryID == e.regID && im.Status == store.StatusScanned {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("registry image not scanned: %+v", im)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if im.Repository != "shop/api" || len(im.CI) != 1 || im.CI[0].RunURL != run.RunURL {
			t.Errorf("registry image not linked to the CI run: %+v", im)
		}

		// Registry first: the event links to the scanned image and leaves
		// its findings (Vigil's own scan) alone.
		clean := e.push(alpineImage(t, false), "shop/web:2")
		before := e.waitImage(clean, store.StatusScanned)
		e.track([][]byte{sdkEnvelope(ingest, scanResultEvent(clean, "0b6f5d0e-0000-4000-8000-000000000001"))}, true, "", 200)
		var after store.Image
		e.do("GET", "/api/v1/images/"+clean, e.admin, nil, 200, &after)
		if after.RegistryID != e.regID || len(after.CI) != 1 || after.CI[0].Commit != run.Commit || after.Counts != before.Counts {
			t.Errorf("registry image after the event: %+v (before %+v)", after, before)
		}

		// A batch with a bad event and a heartbeat: partial success.
		bad := scanResultEvent("sha256:nope", "r")
		heartbeat := []byte(`{"name":"Microsoft.ApplicationInsights.x.Metric","iKey":"` + ingest + `","data":{"baseType":"MetricData","baseData":{"metrics":[]}}}`)
		got = e.track([][]byte{heartbeat, sdkEnvelope(ingest, bad)}, true, "", 206)
		if got.ItemsReceived != 2 || got.ItemsAccepted != 1 || len(got.Errors) != 1 || got.Errors[0].Index != 1 || got.Errors[0].StatusCode != 400 {
			t.Errorf("partial answer: %+v", got)
		}
		e.track([][]byte{sdkEnvelope(ingest, bad)}, false, "", 400)

		// Credentials: the instrumentation key is the token.
		e.track([][]byte{sdkEnvelope("vgl_0000", scanResultEvent(clean, "r2"))}, true, "", 401)
		e.track([][]byte{sdkEnvelope("4c7f0d5e-1d2b-4b7a-9a55-2f0c3a0e6b11", scanResultEvent(clean, "r2"))}, true, "", 401)
		e.track([][]byte{ev, sdkEnvelope("vgl_0000", scanResultEvent(clean, "r3"))}, true, "", 401)
		reader, _ := e.st.CreateToken(ctx, "acme", store.ScopeRead)
		e.track([][]byte{sdkEnvelope(reader, scanResultEvent(clean, "r4"))}, true, "", 403)
		// Another tenant's token never reaches acme's images.
		other, _ := e.st.CreateToken(ctx, "globex", store.ScopeIngest)
		e.track([][]byte{sdkEnvelope(other, scanResultEvent(clean, "r5"))}, true, "", 200)
		e.do("GET", "/api/v1/images/"+clean, e.admin, nil, 200, &after)
		if len(after.CI) != 1 {
			t.Errorf("another tenant's event linked to acme's image: %+v", after.CI)
		}

		// Malformed and oversized bodies.
		e.trackRaw([]byte(`{"name":`), false, "", 400)
		e.trackRaw([]byte("not gzip"), true, "", 400)
		e.trackRaw(nil, false, "", 400)
		var bomb bytes.Buffer
		zw := gzip.NewWriter(&bomb)
		zw.Write([]byte("["))
		zw.Write(bytes.Repeat([]byte(" "), 17<<20)) // inflates past the 16 MiB limit
		zw.Close()
		e.trackRaw(bomb.Bytes(), true, "", 413)
		e.trackRaw(bytes.Repeat([]byte(" "), 17<<20), false, "", 413)
	})
}
