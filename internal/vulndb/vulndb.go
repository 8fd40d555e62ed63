// Package vulndb owns Vigil's vulnerability DB file: one versioned SQLite
// file that is built by streaming feeds into a Builder (a vuln.Sink),
// committed atomically, and then opened read-only by any number of
// concurrent scans through DB (a vuln.Store). Every row is tagged with the
// feed that produced it, so an update can carry one feed's rows over from
// the previous file when that feed cannot be refreshed. See docs/vulndb.md.
package vulndb

import (
	"encoding/json"
	"strconv"
	"time"
)

// SchemaVersion is the layout of the file. A DB with another version is
// refused with a message telling the user to update it.
const SchemaVersion = 1

// SourceInfo is the provenance of one feed in the DB.
type SourceInfo struct {
	// Name is the feed name ("osv/Go", "alpine/v3.10/main", "kev").
	Name string `json:"name"`
	URL  string `json:"url"`
	// Fetched is when the data was fetched (or confirmed unchanged).
	Fetched time.Time `json:"fetched"`
	// Digest is "sha256:<hex>" of the fetched bytes.
	Digest string `json:"digest,omitempty"`
	// Records is how many advisories (or enrichment rows) the feed gave.
	Records int `json:"records"`
	// ETag and LastModified are remembered for conditional requests.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Parser is the feed parsers' version that produced the rows; rows of
	// another version are re-imported even when the feed is unchanged.
	Parser int `json:"parser,omitempty"`
	// Warning says why the data is stale, partial or absent.
	Warning string `json:"warning,omitempty"`
}

// Metadata describes a DB file.
type Metadata struct {
	SchemaVersion int          `json:"schema_version"`
	Built         time.Time    `json:"built"`
	Sources       []SourceInfo `json:"sources"`
}

// Source returns the named source's info.
func (m Metadata) Source(name string) (SourceInfo, bool) {
	for _, s := range m.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return SourceInfo{}, false
}

const schemaSQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE vulnerability (id TEXT NOT NULL, feed TEXT NOT NULL, record BLOB NOT NULL, UNIQUE (id, feed));
CREATE TABLE affected (ecosystem TEXT NOT NULL, package TEXT NOT NULL, vuln_id TEXT NOT NULL, feed TEXT NOT NULL, record BLOB NOT NULL);
CREATE TABLE enrichment (cve TEXT NOT NULL, feed TEXT NOT NULL, record BLOB NOT NULL, UNIQUE (cve, feed));
`

// Advisory rows are ~1 KB, too large for WITHOUT ROWID tables (measured:
// 61 MB vs 48 MB file for the corpus feeds), so they use rowid tables with
// a unique index.
//
// indexSQL runs at commit: building the index once after the bulk load is
// faster than maintaining it row by row.
const indexSQL = `CREATE INDEX affected_package ON affected (ecosystem, package);`

const (
	metaSchemaVersion = "schema_version"
	metaBuilt         = "built"
	metaSources       = "sources"
)

func encodeMeta(m Metadata) (map[string]string, error) {
	src, err := json.Marshal(m.Sources)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		metaSchemaVersion: strconv.Itoa(m.SchemaVersion),
		metaBuilt:         m.Built.UTC().Format(time.RFC3339Nano),
		metaSources:       string(src),
	}, nil
}
