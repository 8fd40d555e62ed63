package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/vigil-scan/vigil/internal/tempfile"
	"github.com/vigil-scan/vigil/internal/urlcred"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

// The DB as an OCI artifact (docs/vulndb.md): an OCI image manifest whose
// artifactType and config say what it is, with one layer, the SQLite file
// compressed with zstd. Any OCI registry (Harbor, ACR, a private mirror)
// carries it to air-gapped runners, as ghcr.io carries Trivy's DB.
const (
	DBArtifactType    = "application/vnd.vigil.db.v1"
	DBConfigMediaType = "application/vnd.vigil.db.config.v1+json"
	DBLayerMediaType  = "application/vnd.vigil.db.layer.v1.sqlite+zstd"

	// Annotations on the manifest (and the layer's title).
	annotationCreated = "org.opencontainers.image.created"
	annotationTitle   = "org.opencontainers.image.title"
	annotationSchema  = "dev.vigil.db.schema"
	annotationDigest  = "dev.vigil.db.digest" // sha256 of the uncompressed DB file
)

// OCIPrefix marks a DB reference given to `db update --from`.
const OCIPrefix = "oci://"

// DBConfig is the artifact's config blob.
type DBConfig struct {
	SchemaVersion int       `json:"schema_version"`
	Built         time.Time `json:"built"`
	// Digest is "sha256:<hex>" of the uncompressed DB file; Size its bytes.
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// RegistryOptions reach the registry holding the DB artifact.
type RegistryOptions struct {
	Insecure bool // plain HTTP
	// Keychain defaults to the docker config and credential helpers.
	Keychain authn.Keychain
	TempDir  string
}

func (o RegistryOptions) parse(ref string) (name.Reference, []remote.Option, error) {
	var nameOpts []name.Option
	if o.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(strings.TrimPrefix(ref, OCIPrefix), nameOpts...)
	if err != nil {
		// The parser quotes the reference without its scheme, where
		// urlcred cannot see user:password@: redact it here.
		red := urlcred.Redact(ref)
		msg := strings.ReplaceAll(err.Error(), strings.TrimPrefix(ref, OCIPrefix), strings.TrimPrefix(red, OCIPrefix))
		return nil, nil, fmt.Errorf("DB reference %q: %s", red, msg)
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	return r, []remote.Option{remote.WithAuthFromKeychain(kc)}, nil
}

// PublishDB pushes the DB file at dbPath to ref as an OCI artifact and
// returns the manifest digest. The compressed layer is written to a
// temporary file first: its digest must be known before the upload.
func PublishDB(ctx context.Context, dbPath, ref string, opts RegistryOptions) (v1.Hash, error) {
	var none v1.Hash
	r, ropts, err := opts.parse(ref)
	if err != nil {
		return none, err
	}
	ropts = append(ropts, remote.WithContext(ctx))
	db, err := vulndb.Open(dbPath)
	if err != nil {
		return none, err
	}
	meta := db.Metadata()
	db.Close()
	layer, err := newDBLayer(ctx, dbPath, opts.TempDir)
	if err != nil {
		return none, err
	}
	defer layer.close()
	cfg, err := json.Marshal(DBConfig{SchemaVersion: meta.SchemaVersion, Built: meta.Built.UTC(), Digest: layer.diffID.String(), Size: layer.rawSize})
	if err != nil {
		return none, err
	}
	config := static.NewLayer(cfg, DBConfigMediaType)
	for _, l := range []v1.Layer{config, layer} {
		if err := remote.WriteLayer(r.Context(), l, ropts...); err != nil {
			return none, fmt.Errorf("pushing the DB to %s: %w", r.Context(), err)
		}
	}
	configDigest, _ := config.Digest()
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  DBArtifactType,
		Config:        v1.Descriptor{MediaType: DBConfigMediaType, Digest: configDigest, Size: int64(len(cfg))},
		Layers: []v1.Descriptor{{MediaType: DBLayerMediaType, Digest: layer.digest, Size: layer.size,
			Annotations: map[string]string{annotationTitle: "vigil.db.zst"}}},
		Annotations: map[string]string{
			annotationCreated: meta.Built.UTC().Format(time.RFC3339),
			annotationSchema:  strconv.Itoa(meta.SchemaVersion),
			annotationDigest:  layer.diffID.String(),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return none, err
	}
	if err := remote.Put(r, rawManifest(raw), ropts...); err != nil {
		return none, fmt.Errorf("pushing the DB manifest to %s: %w", r, err)
	}
	sum := sha256.Sum256(raw)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, nil
}

// rawManifest is a manifest pushed as is (remote.Put reads its media type).
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// dbLayer is the zstd-compressed DB, staged in a temporary file.
type dbLayer struct {
	file            string
	digest, diffID  v1.Hash
	size, rawSize   int64
	uncompressedSrc string
}

func newDBLayer(ctx context.Context, dbPath, tempDir string) (*dbLayer, error) {
	in, err := os.Open(dbPath)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	tmp, err := tempfile.Create(tempDir, "vigil-db-*.zst")
	if err != nil {
		return nil, err
	}
	l := &dbLayer{file: tmp.Name(), uncompressedSrc: dbPath}
	fail := func(err error) (*dbLayer, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("compressing the DB: %w", err)
	}
	zh, rh := sha256.New(), sha256.New()
	counted := &countWriter{w: io.MultiWriter(tmp, zh)}
	zw, err := zstd.NewWriter(counted, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return fail(err)
	}
	n, err := io.Copy(zw, io.TeeReader(&ctxReader{ctx: ctx, r: in}, rh))
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err != nil {
		return fail(err)
	}
	l.rawSize, l.size = n, counted.n
	l.digest = hashOf(zh)
	l.diffID = hashOf(rh)
	return l, nil
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

func (l *dbLayer) close()                               { os.Remove(l.file) }
func (l *dbLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *dbLayer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *dbLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.file) }
func (l *dbLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.uncompressedSrc) }
func (l *dbLayer) Size() (int64, error)                 { return l.size, nil }
func (l *dbLayer) MediaType() (types.MediaType, error)  { return DBLayerMediaType, nil }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ctxReader stops a long copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ErrNotDBArtifact: the reference names something that is not a Vigil DB.
var ErrNotDBArtifact = errors.New("not a Vigil DB artifact")

// maxDBConfig bounds the config blob read before the download.
const maxDBConfig = 1 << 20

// InstallOCI pulls the DB artifact at ref (oci://REGISTRY/REPO:TAG),
// checks its media types and schema, verifies the compressed layer
// against its digest (go-containerregistry checks it while streaming) and
// the decompressed file against the digest in the config, keeps it in
// cacheDir keyed by that digest (a cached copy is not downloaded again)
// and installs it atomically at dbPath, as InstallPrebuilt does.
func InstallOCI(ctx context.Context, ref, cacheDir, dbPath string, opts RegistryOptions) (vulndb.Metadata, bool, error) {
	var none vulndb.Metadata
	r, ropts, err := opts.parse(ref)
	if err != nil {
		return none, false, err
	}
	ropts = append(ropts, remote.WithContext(ctx))
	desc, err := remote.Get(r, ropts...)
	if err != nil {
		return none, false, fmt.Errorf("DB artifact %s: %w", r, err)
	}
	if desc.MediaType != types.OCIManifestSchema1 {
		return none, false, fmt.Errorf("%s is a %s, not an OCI manifest: %w", r, desc.MediaType, ErrNotDBArtifact)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		return none, false, fmt.Errorf("DB artifact %s: manifest: %w", r, err)
	}
	if m.Config.MediaType != DBConfigMediaType || len(m.Layers) != 1 || m.Layers[0].MediaType != DBLayerMediaType {
		var layers []string
		for _, l := range m.Layers {
			layers = append(layers, string(l.MediaType))
		}
		return none, false, fmt.Errorf("%s has config %s and layers %v, want config %s and one %s layer: %w",
			r, m.Config.MediaType, layers, DBConfigMediaType, DBLayerMediaType, ErrNotDBArtifact)
	}
	cfg, err := fetchDBConfig(r.Context().Digest(m.Config.Digest.String()), m.Config, ropts)
	if err != nil {
		return none, false, fmt.Errorf("DB artifact %s: %w", r, err)
	}
	hexDigest := strings.TrimPrefix(cfg.Digest, "sha256:")
	cacheFile := filepath.Join(cacheDir, "db", "prebuilt", hexDigest+".db")
	// Downloads and installs of killed runs.
	tempfile.RemoveStale(filepath.Dir(cacheFile), "*"+tempSuffix+"*")
	vulndb.RemoveStale(dbPath)
	cached := fileDigest(cacheFile) == hexDigest
	if !cached {
		layer, err := remote.Layer(r.Context().Digest(m.Layers[0].Digest.String()), ropts...)
		if err != nil {
			return none, false, fmt.Errorf("DB artifact %s: %w", r, err)
		}
		if err := downloadDBLayer(ctx, layer, cfg, cacheFile); err != nil {
			return none, false, fmt.Errorf("DB artifact %s: %w", r, err)
		}
	}
	meta, err := installCached(cacheFile, dbPath, r.String())
	return meta, cached, err
}

func fetchDBConfig(ref name.Digest, d v1.Descriptor, ropts []remote.Option) (DBConfig, error) {
	var cfg DBConfig
	if d.Size > maxDBConfig {
		return cfg, fmt.Errorf("config is %d bytes, more than %d", d.Size, maxDBConfig)
	}
	l, err := remote.Layer(ref, ropts...)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	rc, err := l.Compressed() // verified against the digest while read
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxDBConfig+1))
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	hexDigest, ok := strings.CutPrefix(cfg.Digest, "sha256:")
	if b, err := hex.DecodeString(hexDigest); !ok || err != nil || len(b) != sha256.Size {
		return cfg, fmt.Errorf("config: digest %q is not sha256:<hex>", cfg.Digest)
	}
	if cfg.SchemaVersion != vulndb.SchemaVersion {
		return cfg, fmt.Errorf("the artifact holds DB schema %d, this vigil reads %d: upgrade vigil or publish a DB built by this version", cfg.SchemaVersion, vulndb.SchemaVersion)
	}
	return cfg, nil
}

// downloadDBLayer streams the layer through zstd into a temporary file
// beside dest, checking the decompressed bytes against the config's digest
// before renaming it into place.
func downloadDBLayer(ctx context.Context, layer v1.Layer, cfg DBConfig, dest string) error {
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("downloading the DB: %w", err)
	}
	defer rc.Close()
	zr, err := zstd.NewReader(&ctxReader{ctx: ctx, r: rc}, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
	if err != nil {
		return fmt.Errorf("downloading the DB: %w", err)
	}
	defer zr.Close()
	h := sha256.New()
	limit := int64(8 << 30)
	if cfg.Size > 0 {
		limit = cfg.Size
	}
	// One byte past the announced size, so a longer stream is caught.
	body := io.TeeReader(io.LimitReader(zr, limit+1), h)
	if err := writeAtomic(body, dest); err != nil {
		return fmt.Errorf("downloading the DB: %w", err)
	}
	got := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if got != cfg.Digest {
		os.Remove(dest)
		return fmt.Errorf("downloaded DB digest %s does not match the published %s", got, cfg.Digest)
	}
	return nil
}
