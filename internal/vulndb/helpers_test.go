package vulndb

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
)

// writeSchemaVersion builds an empty DB and then rewrites its schema version.
func writeSchemaVersion(t *testing.T, path string, version int) {
	t.Helper()
	b, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", fileURI(path, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE meta SET value = ? WHERE key = ?`, strconv.Itoa(version), metaSchemaVersion); err != nil {
		t.Fatal(err)
	}
}
