package feeds

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxEPSSSize bounds the decompressed EPSS CSV (about 15 MB today).
const maxEPSSSize = 1 << 30

// ParseEPSS reads FIRST's EPSS CSV, gzipped or plain:
//
//	#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
//	cve,epss,percentile
//	CVE-1999-0001,0.0133,0.79
//
// and sends one EPSS enrichment per CVE. It returns the number of rows.
// FIRST publishes no checksum for this file.
func ParseEPSS(ctx context.Context, r io.Reader, sink vuln.Sink) (int, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, fmt.Errorf("EPSS: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	lr := &io.LimitedReader{R: br, N: maxEPSSSize + 1}
	in := bufio.NewReader(lr)
	var date string
	// Comment lines carry the model version and the score date.
	for {
		b, err := in.Peek(1)
		if err != nil || b[0] != '#' {
			break
		}
		line, err := in.ReadString('\n')
		for _, kv := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "#")), ",") {
			if v, ok := strings.CutPrefix(kv, "score_date:"); ok {
				date = v[:min(len(v), 10)]
			}
		}
		if err != nil {
			break
		}
	}
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("EPSS: reading header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	ci, ok1 := col["cve"]
	ei, ok2 := col["epss"]
	pi, ok3 := col["percentile"]
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("EPSS: header %q lacks cve, epss, percentile", header)
	}
	n := 0
	for {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("EPSS: %w", err)
		}
		if lr.N <= 0 {
			return n, fmt.Errorf("EPSS: file over %d bytes", maxEPSSSize)
		}
		if len(rec) <= max(ci, ei, pi) {
			return n, fmt.Errorf("EPSS: short row %q", rec)
		}
		score, err1 := strconv.ParseFloat(rec[ei], 64)
		pct, err2 := strconv.ParseFloat(rec[pi], 64)
		cve := strings.TrimSpace(rec[ci])
		if err1 != nil || err2 != nil || !strings.HasPrefix(cve, "CVE-") {
			return n, fmt.Errorf("EPSS: bad row %q", rec)
		}
		if err := sink.Enrich(cve, vuln.Enrichment{EPSS: &vuln.EPSS{Score: score, Percentile: pct, Date: date}}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
