package feeds

import (
	"context"
	"io"

	"github.com/vigil-scan/vigil/internal/ecosystem/alpine"
	"github.com/vigil-scan/vigil/internal/ecosystem/debian"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// The distro feed parsers live with their ecosystems; these adapters are
// the only place the feed registry names them.

func parseAlpineSecDB(ctx context.Context, r io.Reader, format string, sink vuln.Sink) (int, error) {
	return alpine.ParseSecDB(ctx, r, format, sink)
}

func parseDebianTracker(ctx context.Context, r io.Reader, sink vuln.Sink) (int, error) {
	return debian.ParseTrackerJSON(ctx, r, sink)
}

func parseDebianAdvisoryList(ctx context.Context, r io.Reader, kind string, sink vuln.Sink) (int, error) {
	return debian.ParseAdvisoryList(ctx, r, kind, sink)
}
