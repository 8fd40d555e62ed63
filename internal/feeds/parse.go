package feeds

// The ParseFuncs of the registry: each adapts one format's parser (the
// distro ones live with their ecosystems) to a fetched Document.

import (
	"context"
	"errors"
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

// checkLineEnd rejects a line-oriented document (YAML, the DSA/DLA lists)
// that is empty or whose last line is unterminated: both formats always end
// with a newline, so a missing one means the download was cut mid-line.
// (JSON, zip and gzip documents detect truncation by themselves.)
func checkLineEnd(doc Document) error {
	if doc.Size <= 0 {
		return errors.New("empty document")
	}
	var last [1]byte
	if _, err := doc.Body.ReadAt(last[:], doc.Size-1); err != nil {
		return err
	}
	if last[0] != '\n' {
		return fmt.Errorf("the last line (at byte %d) is unterminated: the document looks truncated", doc.Size)
	}
	return nil
}

func parseAlpine(ctx context.Context, doc Document, sink vuln.Sink) (int, string, error) {
	format := "json"
	if ext := path.Ext(doc.URL); strings.EqualFold(ext, ".yaml") || strings.EqualFold(ext, ".yml") {
		format = "yaml"
		if err := checkLineEnd(doc); err != nil {
			return 0, "", fmt.Errorf("secdb: %w", err)
		}
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
		if err := checkLineEnd(doc); err != nil {
			return 0, "", fmt.Errorf("advisory list: %w", err)
		}
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
