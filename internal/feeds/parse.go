package feeds

// The ParseFuncs of the registry: each adapts one format's parser (the
// distro ones live with their ecosystems) to a fetched Document.

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/vigil-scan/vigil/internal/ecosystem/alpine"
	"github.com/vigil-scan/vigil/internal/ecosystem/debian"
	"github.com/vigil-scan/vigil/internal/osv"
	"github.com/vigil-scan/vigil/internal/vuln"
)

func parseOSVZip(ctx context.Context, doc Document, sink vuln.Sink) (int, string, error) {
	st, err := osv.ImportZip(ctx, doc.Body, doc.Size, sink)
	if err != nil {
		return st.Records, "", err
	}
	var warning string
	if st.Skipped > 0 {
		warning = fmt.Sprintf("%d malformed records skipped (first: %s)", st.Skipped, firstOf(st.Warnings))
	}
	return st.Records, warning, nil
}

func firstOf(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func parseAlpine(ctx context.Context, doc Document, sink vuln.Sink) (int, string, error) {
	format := "json"
	if ext := path.Ext(doc.URL); strings.EqualFold(ext, ".yaml") || strings.EqualFold(ext, ".yml") {
		format = "yaml"
	}
	n, err := alpine.ParseSecDB(ctx, doc.Body, format, sink)
	return n, "", err
}

func parseDebianJSON(ctx context.Context, doc Document, sink vuln.Sink) (int, string, error) {
	n, err := debian.ParseTrackerJSON(ctx, doc.Body, sink)
	return n, "", err
}

func parseAdvisoryList(kind string) ParseFunc {
	return func(ctx context.Context, doc Document, sink vuln.Sink) (int, string, error) {
		n, err := debian.ParseAdvisoryList(ctx, doc.Body, kind, sink)
		return n, "", err
	}
}

func parseEPSSDoc(ctx context.Context, doc Document, sink vuln.Sink) (int, string, error) {
	n, err := ParseEPSS(ctx, doc.Body, sink)
	return n, "", err
}

func parseKEVDoc(ctx context.Context, doc Document, sink vuln.Sink) (int, string, error) {
	n, err := ParseKEV(ctx, doc.Body, sink)
	return n, "", err
}
