package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-scan/vigil/internal/jobs"
	"github.com/vigil-scan/vigil/internal/store"
)

// feedServer serves a feeds mirror over HTTP and can be made to fail: 500
// for everything, or one feed (Alpine v3.10 main) cut off halfway through
// its declared Content-Length (the connection drops).
type feedServer struct {
	files http.Handler
	dir   string
	mode  atomic.Value // "", "500" or "truncate"
	gets  atomic.Int64
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.gets.Add(1)
	mode, _ := f.mode.Load().(string)
	switch mode {
	case "500":
		http.Error(w, "feed server broken", http.StatusInternalServerError)
		return
	case "truncate":
		if !strings.HasSuffix(r.URL.Path, "/main.yaml") {
			break // the other feeds answer as usual (unchanged)
		}
		b, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/"))))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(200)
		w.Write(b[:len(b)/2])
		return
	}
	f.files.ServeHTTP(w, r)
}

// A refresh that fails, whether the feed server answers 500 or cuts the
// data short, fails its job visibly and leaves the previous DB serving:
// /api/v1/db reports the previous build, /readyz stays 200, findings and
// the gate answer as before, and new pushes are still scanned.
func TestFailedRefreshKeepsPreviousDB(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		dir := feedMirror(t, "v3.10")
		fs := &feedServer{files: http.FileServer(http.Dir(dir)), dir: dir}
		feedSrv := httptest.NewServer(fs)
		t.Cleanup(feedSrv.Close)
		e := newEnv(t, backend, feedSrv.URL)
		if fs.gets.Load() == 0 {
			t.Fatal("the first refresh did not fetch the feeds over HTTP")
		}
		e.startRegistry("s")
		digest := e.push(alpineImage(t, true), "library/alpine:3.10")
		im := e.waitImage(digest, store.StatusScanned)
		if im.Counts.Total() == 0 {
			t.Fatalf("no findings from the corpus secdb: %+v", im.Counts)
		}
		var first jobs.Info
		e.do("GET", "/api/v1/db", e.admin, nil, 200, &first)
		var findings struct {
			Items []store.Finding `json:"items"`
		}
		e.do("GET", "/api/v1/images/"+digest+"/findings", e.admin, nil, 200, &findings)
		ref := e.regHost + "/library/alpine@" + digest
		var gate struct {
			Allowed bool     `json:"allowed"`
			Reasons []string `json:"reasons"`
		}
		e.do("GET", "/api/v1/gate?threshold=unknown&image="+ref, e.admin, nil, 200, &gate)
		if gate.Allowed || len(gate.Reasons) == 0 {
			t.Fatalf("gate before: %+v", gate)
		}

		for i, mode := range []string{"500", "truncate"} {
			fs.mode.Store(mode)
			e.do("POST", "/api/v1/db/refresh", e.admin, nil, 202, nil)
			// The job fails: in the failed jobs, the metrics and /api/v1/db.
			deadline := time.Now().Add(60 * time.Second)
			var failed struct {
				Items []jobs.FailedJob `json:"items"`
			}
			for {
				e.do("GET", "/api/v1/jobs/failed", e.admin, nil, 200, &failed)
				n := 0
				for _, j := range failed.Items {
					if j.Kind == "refresh_db" && j.Error != "" {
						n++
					}
				}
				if n > i {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: no failed refresh job: %+v", mode, failed)
				}
				time.Sleep(100 * time.Millisecond)
			}
			metrics := string(e.do("GET", "/metrics", "", nil, 200, nil))
			if !strings.Contains(metrics, `vigil_jobs_finished_total{kind="refresh_db",outcome="error"}`) || !strings.Contains(metrics, "vigil_db_last_refresh_failed 1") {
				t.Errorf("%s: metrics do not show the failed refresh:\n%s", mode, grepLines(metrics, "refresh"))
			}
			var now jobs.Info
			e.do("GET", "/api/v1/db", e.admin, nil, 200, &now)
			if now.Digest != first.Digest || !now.Built.Equal(first.Built) || now.LastRefreshError == "" {
				t.Errorf("%s: /api/v1/db after a failed refresh: %+v, want build %s %s with the error", mode, now, first.Digest, first.Built)
			}
			e.do("GET", "/readyz", "", nil, 200, nil)
			var again struct {
				Items []store.Finding `json:"items"`
			}
			e.do("GET", "/api/v1/images/"+digest+"/findings", e.admin, nil, 200, &again)
			if len(again.Items) != len(findings.Items) || again.Items[0].State != store.StateOpen {
				t.Errorf("%s: findings after a failed refresh: %d, want %d open", mode, len(again.Items), len(findings.Items))
			}
			e.do("GET", "/api/v1/gate?threshold=unknown&image="+ref, e.admin, nil, 200, &gate)
			if gate.Allowed || len(gate.Reasons) == 0 {
				t.Errorf("%s: gate after a failed refresh: %+v", mode, gate)
			}
			// The DB file served to `vigil db update --from` is the previous one.
			resp, err := http.Get(e.srv.URL + "/api/v1/db/vigil.db")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if etag := resp.Header.Get("ETag"); resp.StatusCode != 200 || etag != `"`+strings.TrimPrefix(first.Digest, "sha256:")+`"` || int64(len(b)) != first.Size {
				t.Errorf("%s: DB file: %d, ETag %s, %d bytes", mode, resp.StatusCode, etag, len(b))
			}
		}
		// Scans still match against the previous DB.
		other := e.push(alpineImage(t, true), "library/other:1")
		if got := e.waitImage(other, store.StatusScanned); got.Counts != im.Counts {
			t.Errorf("new push while the feeds are broken: %+v, want %+v", got.Counts, im.Counts)
		}
	})
}

func grepLines(s, sub string) string {
	var out bytes.Buffer
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out.WriteString(l + "\n")
		}
	}
	return out.String()
}
