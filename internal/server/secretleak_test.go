package server_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
)

// A publish from any client (an older vigil, curl) stores no config secret
// and no credential in a CI URL: the whole SQLite database is searched for
// each planted secret after the POST.
func TestPublishStoresNoSecret(t *testing.T) {
	e := newEnv(t, "sqlite", feedMirror(t, "v3.10"))
	img, planted := imagetest.SecretConfigImage(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	var history []map[string]any
	for _, h := range cf.History {
		history = append(history, map[string]any{"created_by": h.CreatedBy, "comment": h.Comment})
	}
	const urlSecret = "ci-url-password-7d1f"
	body := map[string]any{"version": "1", "image": map[string]any{"name": "acme/app:1.0"},
		"trace": map[string]any{"provider": "jenkins", "run_id": "7",
			"run_url": "https://bot:" + urlSecret + "@ci.example.com/job/7", "repository_url": "https://ci.example.com/repo?token=" + urlSecret},
		"report": map[string]any{"schema_version": "1", "vulnerabilities": []any{},
			"artifact": map[string]any{"name": "acme/app:1.0",
				"config": map[string]any{"env": c.Env, "labels": c.Labels, "cmd": c.Cmd, "entrypoint": c.Entrypoint,
					"healthcheck": c.Healthcheck.Test, "onbuild": c.OnBuild, "history": history}}}}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/scans", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "application/vnd.vigil.scan.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST /api/v1/scans: %d", resp.StatusCode)
	}
	var stored strings.Builder
	filepath.WalkDir(e.opts.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			stored.Write(b)
		}
		return nil
	})
	if !strings.Contains(stored.String(), "ci.example.com/job/7") {
		t.Fatalf("the CI run is not in the database files under %s", e.opts.DataDir)
	}
	for _, p := range append(planted, imagetest.PlantedSecret{Field: "trace URLs", Clear: urlSecret}) {
		if strings.Contains(stored.String(), p.Clear) {
			t.Errorf("the database stores the %s secret in clear", p.Field)
		}
	}
}
