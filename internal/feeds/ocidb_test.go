package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"

	"github.com/vigil-scan/vigil/internal/config"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/vulndb"
)

var (
	smallDBOnce sync.Once
	smallDBPath string
	smallDBErr  error
)

// smallDB is a real DB built once per test binary from the corpus's Alpine
// secdb and KEV feeds.
func smallDB(t testing.TB) string {
	t.Helper()
	mirror := corpus.Path(t, "feeds")
	smallDBOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-ocidb-*")
		if err != nil {
			smallDBErr = err
			return
		}
		smallDBPath = filepath.Join(dir, "vigil.db")
		u := &Updater{Config: config.Config{DBPath: smallDBPath, Mirror: mirror}, Fetcher: &Fetcher{}}
		res, err := u.Update(context.Background(), []string{"alpine", "kev"})
		if err == nil && res.Failed() {
			err = errors.New("feeds failed")
		}
		smallDBErr = err
	})
	if smallDBErr != nil {
		t.Fatal(smallDBErr)
	}
	return smallDBPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if smallDBPath != "" {
		os.RemoveAll(filepath.Dir(smallDBPath))
	}
	os.Exit(code)
}

func registries(t *testing.T) map[string]string {
	return map[string]string{"ggcr": imagetest.Registry(t), "distribution": imagetest.Distribution(t)}
}

// Publish, then install from the registry: the same DB arrives, verified,
// cached, and installed atomically over an older file.
func TestPublishInstallOCI(t *testing.T) {
	src := smallDB(t)
	want := fileDigest(src)
	for kind, host := range registries(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			ref := host + "/security/vigil-db:1"
			opts := RegistryOptions{Insecure: true, TempDir: t.TempDir()}
			digest, err := PublishDB(ctx, src, ref, opts)
			if err != nil {
				t.Fatal(err)
			}
			desc, err := remote.Get(mustRef(t, ref), remote.WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			if desc.Digest != digest {
				t.Errorf("manifest digest %s, PublishDB said %s", desc.Digest, digest)
			}
			var m v1.Manifest
			json.Unmarshal(desc.Manifest, &m)
			if m.ArtifactType != DBArtifactType || m.Config.MediaType != DBConfigMediaType || m.Layers[0].MediaType != DBLayerMediaType ||
				m.Annotations[annotationSchema] == "" || m.Annotations[annotationCreated] == "" {
				t.Errorf("manifest %s", desc.Manifest)
			}

			cache, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "db", "vigil.db")
			os.MkdirAll(filepath.Dir(dbPath), 0o755)
			os.WriteFile(dbPath, []byte("old"), 0o600)
			meta, cached, err := InstallOCI(ctx, "oci://"+ref, cache, dbPath, opts)
			if err != nil {
				t.Fatal(err)
			}
			if cached || fileDigest(dbPath) != want || meta.SchemaVersion != vulndb.SchemaVersion {
				t.Errorf("cached %v, installed digest %s want %s", cached, fileDigest(dbPath), want)
			}
			if _, cached, err = InstallOCI(ctx, "oci://"+ref, cache, dbPath, opts); err != nil || !cached {
				t.Errorf("second install: cached %v, %v", cached, err)
			}
		})
	}
}

func TestInstallOCIBadArtifacts(t *testing.T) {
	src := smallDB(t)
	host := imagetest.Registry(t)
	ctx := context.Background()
	opts := RegistryOptions{Insecure: true, TempDir: t.TempDir()}
	good := host + "/db:good"
	if _, err := PublishDB(ctx, src, good, opts); err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(mustRef(t, good))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	json.Unmarshal(desc.Manifest, &m)

	// The same layer, announced with another DB digest in the config.
	wrongDigest := pushVariant(t, host+"/db:wrong-digest", m, func(c *DBConfig) {
		c.Digest = "sha256:" + strings.Repeat("ab", 32)
	}, nil)
	// The layer with another media type.
	wrongType := pushVariant(t, host+"/db:wrong-type", m, nil, func(m *v1.Manifest) {
		m.Layers[0].MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
	})
	oldSchema := pushVariant(t, host+"/db:old-schema", m, func(c *DBConfig) { c.SchemaVersion = -1 }, nil)
	// A layer digest the registry does not hold.
	missingBlob := pushVariant(t, host+"/db:missing-blob", m, nil, func(m *v1.Manifest) {
		m.Layers[0].Digest = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)}
	})
	img, _ := random.Image(512, 1)
	image := host + "/app:1"
	imagetest.Push(t, img, image)

	tests := []struct {
		name, ref, says string
		is              error
	}{
		{"wrong digest", wrongDigest, "does not match the published", nil},
		{"wrong media type", wrongType, "want config " + DBConfigMediaType, ErrNotDBArtifact},
		{"container image", image, "application/vnd.docker", ErrNotDBArtifact},
		{"old schema", oldSchema, "schema -1", nil},
		{"missing blob", missingBlob, "BLOB_UNKNOWN", nil},
		{"not found", host + "/db:none", "MANIFEST_UNKNOWN", nil},
		{"bad reference", "oci://Bad Ref", "DB reference", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "vigil.db")
			os.WriteFile(dbPath, []byte("previous"), 0o600)
			_, _, err := InstallOCI(ctx, tc.ref, t.TempDir(), dbPath, opts)
			if err == nil || !strings.Contains(err.Error(), tc.says) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("err = %v, want %q", err, tc.says)
			}
			if b, _ := os.ReadFile(dbPath); string(b) != "previous" {
				t.Error("the previous DB was replaced")
			}
		})
	}
}

// pushVariant pushes a copy of the good manifest m with its config and
// manifest edited, and returns its oci:// reference.
func pushVariant(t *testing.T, ref string, m v1.Manifest, editConfig func(*DBConfig), editManifest func(*v1.Manifest)) string {
	t.Helper()
	r := mustRef(t, ref)
	if editConfig != nil {
		l, err := remote.Layer(r.Context().Digest(m.Config.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := l.Compressed()
		var c DBConfig
		json.NewDecoder(rc).Decode(&c)
		rc.Close()
		editConfig(&c)
		b, _ := json.Marshal(c)
		cl := static.NewLayer(b, DBConfigMediaType)
		if err := remote.WriteLayer(r.Context(), cl); err != nil {
			t.Fatal(err)
		}
		m.Config.Digest, _ = cl.Digest()
		m.Config.Size = int64(len(b))
	}
	m.Layers = append([]v1.Descriptor(nil), m.Layers...)
	if editManifest != nil {
		editManifest(&m)
	}
	raw, _ := json.Marshal(m)
	if err := remote.Put(r, rawManifest(raw)); err != nil {
		t.Fatal(err)
	}
	return "oci://" + ref
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(strings.TrimPrefix(ref, OCIPrefix), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Offline: an unresolvable registry or feed host fails on the first
// attempt, with one line naming the host.
func TestOfflineFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err := InstallOCI(ctx, "oci://vigil-offline.invalid/db:1", t.TempDir(), filepath.Join(t.TempDir(), "v.db"), RegistryOptions{})
	if err == nil || !strings.Contains(err.Error(), "vigil-offline.invalid") || ctx.Err() != nil {
		t.Errorf("registry: %v", err)
	}
	// A retry delay of an hour: any retry would hit the deadline.
	f := &Fetcher{BaseDelay: time.Hour}
	for _, loc := range []string{"http://vigil-offline.invalid/feed.json", "http://127.0.0.1:1/feed.json"} {
		_, err := f.Fetch(ctx, loc, Validators{}, nil)
		if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "attempts") || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%s: %v", loc, err)
		}
	}
	// The next feed from the same host does not ask DNS again.
	if _, err := f.Fetch(ctx, "http://vigil-offline.invalid/other.json", Validators{}, nil); !errors.Is(err, ErrUnreachable) {
		t.Errorf("second feed: %v", err)
	}
	if ctx.Err() != nil {
		t.Error("offline failures were retried")
	}
}
