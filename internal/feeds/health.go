package feeds

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/result"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// ErrIncompleteDB is wrapped by CheckDB's errors: the DB cannot give an
// honest result, and a scan must not report "no findings" from it.
var ErrIncompleteDB = errors.New("vulnerability DB cannot be trusted for a scan")

// CheckDB decides whether a scan may use db (docs/vulndb.md, "When a DB is
// refused"). It is an error when
//   - the DB holds no affected-package record at all (every feed failed,
//     was skipped, or the file was built empty);
//   - a feed's last update failed and the DB holds no data of it;
//
// A feed the configuration fetches that the DB has no source for is no
// error by itself: a prebuilt DB (`db update --from`) may carry fewer feeds
// than the local configuration names. The scan lists the packages that
// needed it as not judged (no-data), naming their ecosystem.
//
// A feed whose last update failed but whose previous data was kept is no
// error: it comes back as a NotJudged entry (reason stale-feed), which the
// reports show and --fail-on-unsupported turns into a gate failure.
func CheckDB(ctx context.Context, _ config.Config, db *vulndb.DB) ([]result.NotJudged, error) {
	ecos, err := db.Ecosystems(ctx)
	if err != nil {
		return nil, err
	}
	path := db.Path()
	if len(ecos) == 0 {
		return nil, fmt.Errorf("%w: %s holds no advisories (every feed failed or was skipped when it was built): run `vigil db update` and check its output", ErrIncompleteDB, path)
	}
	meta := db.Metadata()
	var failed []string
	var notes []result.NotJudged
	for _, s := range meta.Sources {
		switch {
		case strings.HasPrefix(s.Warning, failedPrefix+":"):
			failed = append(failed, fmt.Sprintf("%s (%s)", s.Name, strings.TrimPrefix(s.Warning, failedPrefix+": ")))
		case strings.HasPrefix(s.Warning, failedPrefix):
			notes = append(notes, result.NotJudged{
				Scope: result.ScopeFeed, Target: s.Name, Reason: result.NotJudgedStaleFeed,
				Message: fmt.Sprintf("the last update of feed %s failed; its data was fetched %s: %s",
					s.Name, s.Fetched.Format("2006-01-02"), s.Warning),
			})
		}
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("%w: %s is incomplete, %s failed their last update and hold no data: %s; fix the feed (or disable it in the configuration) and run `vigil db update`",
			ErrIncompleteDB, path, countFeeds(len(failed)), strings.Join(failed, "; "))
	}
	return notes, nil
}

func countFeeds(n int) string {
	if n == 1 {
		return "1 feed"
	}
	return fmt.Sprintf("%d feeds", n)
}
