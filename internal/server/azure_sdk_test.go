package server_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/store"
)

// The Application Insights SDK Azure/publish-security-assessments ships
// (applicationinsights 1.8.7 from npm, test/azure-action), driven as the
// action drives it, delivers its event to Vigil through nothing but a
// connection string: gzip, newline-delimited envelopes, properties as
// JSON text, the iKey as the token. Outside CI it skips when node or the
// npm package is missing; under CI=true it fails instead.
func TestAzureActionSDK(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "test", "azure-action"))
	node, nodeErr := exec.LookPath("node")
	for what, missing := range map[string]bool{
		"node": nodeErr != nil,
		"test/azure-action/node_modules (cd test/azure-action && npm ci)": !fileExists(filepath.Join(dir, "node_modules", "applicationinsights", "package.json")),
	} {
		if missing {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the SDK interop test needs %s; .ci/run installs it", what)
			}
			t.Skipf("SDK interop test skipped: %s is missing (.ci/run installs it)", what)
		}
	}
	e := newEnv(t, "sqlite", feedMirror(t, "v3.10"))
	ingest, _ := e.st.CreateToken(context.Background(), "acme", store.ScopeIngest)
	d, _ := alpineImage(t, true).Digest()
	digest := d.String()
	props, _ := json.Marshal(scanResultEvent(digest, "5d0c7e59-3f3e-4a34-9d47-1b1a5b0c2e11"))

	send := func(connectionString string) trackAnswer {
		t.Helper()
		cmd := exec.Command(node, "send.cjs", string(props))
		cmd.Dir = dir
		// The SDK caches failed sends under the temp directory.
		cmd.Env = append(os.Environ(), "VIGIL_CONNECTION_STRING="+connectionString, "TMPDIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("send.cjs: %v: %s", err, out)
		}
		var ans trackAnswer
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ans); err != nil {
			t.Fatalf("answer: %v: %s", err, out)
		}
		return ans
	}
	// With and without the trailing slash users paste from the portal.
	for _, endpoint := range []string{e.srv.URL + "/api/v1/ingest/azure", e.srv.URL + "/api/v1/ingest/azure/"} {
		ans := send("InstrumentationKey=" + ingest + ";IngestionEndpoint=" + endpoint)
		if ans.ItemsReceived != 1 || ans.ItemsAccepted != 1 || len(ans.Errors) != 0 {
			t.Errorf("%s: answer %+v", endpoint, ans)
		}
	}
	var im store.Image
	e.do("GET", "/api/v1/images/"+digest, e.admin, nil, 200, &im)
	if len(im.CI) != 1 || im.CI[0].Commit != "eca0572326b3a8bb4423c8ab2482d1e9f59df6c3" || im.CI[0].Provider != "github-actions" || im.Counts.Critical != 3 {
		t.Errorf("image from the SDK's event (sent twice): %+v", im)
	}
	if ans := send("InstrumentationKey=vgl_0000;IngestionEndpoint=" + e.srv.URL + "/api/v1/ingest/azure"); ans.ItemsAccepted != 0 || ans.Error == "" {
		t.Errorf("unknown token: %+v", ans)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
