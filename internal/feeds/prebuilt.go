package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-scan/vigil/internal/tempfile"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// PrebuiltMeta is what a Vigil server answers at /api/v1/db/metadata.
type PrebuiltMeta struct {
	SchemaVersion int       `json:"schema_version"`
	Built         time.Time `json:"built"`
	// Digest is "sha256:<hex>" of the DB file.
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// InstallPrebuilt downloads the DB a Vigil server publishes (see
// docs/vulndb.md for the wire contract), verifies its digest, keeps it in
// cacheDir keyed by digest (a cached copy is not downloaded again) and
// installs it atomically at dbPath. It returns the installed DB's metadata
// and whether the download was skipped.
func (f *Fetcher) InstallPrebuilt(ctx context.Context, server, cacheDir, dbPath string) (vulndb.Metadata, bool, error) {
	var none vulndb.Metadata
	base := strings.TrimSuffix(server, "/") + "/api/v1/db/"
	meta, err := f.prebuiltMeta(ctx, base+"metadata")
	if err != nil {
		return none, false, err
	}
	hexDigest := strings.TrimPrefix(meta.Digest, "sha256:")
	prebuiltDir := filepath.Join(cacheDir, "db", "prebuilt")
	cacheFile := filepath.Join(prebuiltDir, hexDigest+".db")
	// Downloads and installs of killed runs.
	tempfile.RemoveStale(prebuiltDir, "*"+tempSuffix+"*")
	vulndb.RemoveStale(dbPath)
	cached := fileDigest(cacheFile) == hexDigest
	if !cached {
		if err := f.downloadPrebuilt(ctx, base+"vigil.db", meta, cacheFile); err != nil {
			return none, false, err
		}
	}
	m, err := installCached(cacheFile, dbPath, server)
	return m, cached, err
}

// installCached opens a downloaded, digest-verified DB in the cache (a
// file that is not a readable Vigil DB is removed), copies it atomically
// over dbPath and removes the older DBs of the cache. from names where it came from, for errors.
func installCached(cacheFile, dbPath, from string) (vulndb.Metadata, error) {
	db, err := vulndb.Open(cacheFile)
	if err != nil {
		os.Remove(cacheFile)
		return vulndb.Metadata{}, fmt.Errorf("prebuilt DB from %s: %w", from, err)
	}
	m := db.Metadata()
	db.Close()
	if err := installCopy(cacheFile, dbPath); err != nil {
		return vulndb.Metadata{}, err
	}
	pruneCache(filepath.Dir(cacheFile), cacheFile)
	return m, nil
}

// pruneCache keeps only the DB just installed in the prebuilt cache: older
// ones are never installed again (a new one is published each build).
func pruneCache(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "*.db"))
	for _, p := range old {
		if p != keep {
			os.Remove(p)
		}
	}
}

// tempSuffix marks files being written by writeAtomic (the DB's own
// convention: vigil.db.tmp-*).
const tempSuffix = ".tmp-"

func (f *Fetcher) prebuiltMeta(ctx context.Context, url string) (PrebuiltMeta, error) {
	var meta PrebuiltMeta
	doc, err := f.Fetch(ctx, url, Validators{}, nil)
	if err != nil {
		return meta, fmt.Errorf("DB metadata: %w", err)
	}
	defer doc.Close()
	if err := json.NewDecoder(io.LimitReader(doc.File, 1<<20)).Decode(&meta); err != nil {
		return meta, fmt.Errorf("DB metadata from %s: %w", url, err)
	}
	hexDigest, ok := strings.CutPrefix(meta.Digest, "sha256:")
	if b, err := hex.DecodeString(hexDigest); !ok || err != nil || len(b) != sha256.Size {
		return meta, fmt.Errorf("DB metadata from %s: digest %q is not sha256:<hex>", url, meta.Digest)
	}
	if meta.SchemaVersion != vulndb.SchemaVersion {
		return meta, fmt.Errorf("server offers DB schema %d, this vigil reads %d: upgrade vigil or build the DB with `vigil db update`", meta.SchemaVersion, vulndb.SchemaVersion)
	}
	return meta, nil
}

func (f *Fetcher) downloadPrebuilt(ctx context.Context, url string, meta PrebuiltMeta, dest string) error {
	doc, err := f.Fetch(ctx, url, Validators{}, nil)
	if err != nil {
		return fmt.Errorf("downloading DB: %w", err)
	}
	defer doc.Close()
	if doc.Digest != meta.Digest {
		return fmt.Errorf("downloaded DB digest %s does not match the published %s", doc.Digest, meta.Digest)
	}
	if meta.Size > 0 && doc.Size != meta.Size {
		return fmt.Errorf("downloaded DB is %d bytes, metadata said %d", doc.Size, meta.Size)
	}
	if _, err := doc.File.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return writeAtomic(doc.File, dest)
}

// installCopy copies src over dst atomically.
func installCopy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeAtomic(in, dst)
}

// writeAtomic writes r to a temp file beside dst, syncs it and renames it.
func writeAtomic(r io.Reader, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := tempfile.Create(filepath.Dir(dst), filepath.Base(dst)+tempSuffix+"*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("installing %s: %w", dst, err)
	}
	return nil
}

// fileDigest is the hex sha256 of a file, "" when it cannot be read.
func fileDigest(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
