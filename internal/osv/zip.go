package osv

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/vigil-scan/vigil/internal/vuln"
)

// maxWarnings bounds the warnings kept in Stats; the rest are only counted.
const maxWarnings = 100

// maxZipEntries bounds the number of entries read from one dump.
const maxZipEntries = 2_000_000

// Stats reports what ImportZip did.
type Stats struct {
	// Records is the number of records emitted to the sink.
	Records int
	// Withdrawn records are skipped on purpose.
	Withdrawn int
	// Skipped counts entries that could not be read or parsed.
	Skipped int
	// Warnings are the first problems found (malformed records, dropped
	// ranges), at most 100; WarningCount counts them all.
	Warnings     []string
	WarningCount int
}

func (s *Stats) warn(msg string) {
	s.WarningCount++
	if len(s.Warnings) < maxWarnings {
		s.Warnings = append(s.Warnings, msg)
	}
}

// ImportZip streams an OSV all.zip (one JSON record per entry) into sink,
// entry by entry, so memory does not grow with the dump. A malformed record
// is skipped and reported in Stats; the error is for an unreadable or
// corrupt archive (a truncated file, a member whose data fails its CRC or
// does not decompress: the dump is damaged, so no part of it is trusted),
// a sink failure or a cancelled context.
func ImportZip(ctx context.Context, r io.ReaderAt, size int64, sink vuln.Sink) (Stats, error) {
	var st Stats
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return st, fmt.Errorf("reading OSV zip: %w", err)
	}
	if len(zr.File) > maxZipEntries {
		return st, fmt.Errorf("OSV zip has %d entries, over the %d limit", len(zr.File), maxZipEntries)
	}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if f.FileInfo().IsDir() || !strings.EqualFold(path.Ext(f.Name), ".json") {
			continue
		}
		data, err := readEntry(f)
		if errors.Is(err, errTooLarge) {
			st.Skipped++
			st.warn(fmt.Sprintf("%s: %v", f.Name, err))
			continue
		}
		if err != nil {
			return st, fmt.Errorf("OSV zip is corrupt: member %s: %w", f.Name, err)
		}
		rec, err := ParseRecord(data)
		if err != nil {
			st.Skipped++
			st.warn(fmt.Sprintf("%s: %v", f.Name, err))
			continue
		}
		for _, w := range rec.Warnings {
			st.warn(w)
		}
		if !rec.Vulnerability.Withdrawn.IsZero() {
			st.Withdrawn++
			continue
		}
		if err := Emit(rec, sink); err != nil {
			return st, err
		}
		st.Records++
	}
	return st, nil
}

// Emit sends a parsed record to sink.
func Emit(rec Record, sink vuln.Sink) error {
	if err := sink.Vulnerability(rec.Vulnerability); err != nil {
		return fmt.Errorf("storing %s: %w", rec.Vulnerability.ID, err)
	}
	for _, a := range rec.Affected {
		if err := sink.Affected(a); err != nil {
			return fmt.Errorf("storing %s/%s for %s: %w", a.Ecosystem, a.Package, a.VulnID, err)
		}
	}
	return nil
}

var errTooLarge = errors.New("entry over the record size limit")

func readEntry(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > MaxRecordSize {
		return nil, errTooLarge
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// The header size can lie; the limit reader is what bounds memory.
	data, err := io.ReadAll(io.LimitReader(rc, MaxRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRecordSize {
		return nil, errTooLarge
	}
	return data, nil
}
