package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-scan/vigil/internal/corpus"
)

// Progress counts every selected feed, the bytes each download brought
// (over HTTP and from a mirror directory) and the rows written.
func TestUpdateProgress(t *testing.T) {
	feedsDir := corpus.Path(t, "feeds")
	srv := httptest.NewServer(http.FileServer(http.Dir(feedsDir)))
	defer srv.Close()
	goZip, err := os.Stat(filepath.Join(feedsDir, "osv", "Go", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	for _, mirror := range []string{feedsDir, srv.URL} {
		t.Run(mirror, func(t *testing.T) {
			u := testUpdater(t, mirror)
			u.Fetcher = nil // Update supplies one to count bytes on
			p := &Progress{}
			type line struct {
				done, total int
				fr          FeedResult
				bytes       int64
			}
			var lines []line
			p.OnFeed = func(done, total int, fr FeedResult, bytes int64) {
				lines = append(lines, line{done, total, fr, bytes})
			}
			u.Progress = p
			if _, err := u.Update(context.Background(), []string{"osv/Go", "alpine/v3.10"}); err != nil {
				t.Fatal(err)
			}
			if len(lines) != 3 || p.FeedsDone.Load() != 3 || p.FeedsTotal.Load() != 3 {
				t.Fatalf("lines %+v, done %d of %d", lines, p.FeedsDone.Load(), p.FeedsTotal.Load())
			}
			first := lines[0]
			if first.fr.Name != "osv/Go" || first.done != 1 || first.total != 3 || first.bytes != goZip.Size() || first.fr.Records != wantOSV["osv/Go"] {
				t.Errorf("osv/Go line %+v, want %d bytes", first, goZip.Size())
			}
			if p.Records.Load() < int64(len(lines)) || p.Current() != "alpine/v3.10/community" {
				t.Errorf("rows %d, current %q", p.Records.Load(), p.Current())
			}
		})
	}
}
