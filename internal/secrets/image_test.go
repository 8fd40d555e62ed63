package secrets_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/secrets"
)

// layer builds an uncompressed layer from name/content pairs; a name
// starting with ".wh." deletes the file.
func layer(t *testing.T, files ...string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		hdr := &tar.Header{Name: files[i], Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(files[i+1]))}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, files[i+1])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n"

// The token is assembled at run time so this file holds no token literal.
var envToken = "ghp_" + strings.Repeat("Vg1l", 9)

func TestImage(t *testing.T) {
	base := layer(t, "etc/os-release", "ID=alpine\nVERSION_ID=3.20.0\n", "etc/motd", "Welcome!\n")
	keys := layer(t,
		"root/.ssh/config", "Host *\n  StrictHostKeyChecking no\n",
		"root/.ssh/id_ed25519", privateKey,
		"app/.env", "GITHUB_TOKEN="+envToken+"\n",
		"app/logo.png", "\x89PNG\r\n\x1a\n"+envToken,
		"app/blob", "GITHUB_TOKEN="+envToken+"\x00",
	)
	cleanup := layer(t, "app/.wh..env", "")

	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: base, History: v1.History{CreatedBy: "ADD rootfs /"}},
		mutate.Addendum{Layer: keys, History: v1.History{CreatedBy: "COPY . /"}},
		mutate.Addendum{Layer: cleanup, History: v1.History{CreatedBy: "RUN rm /app/.env"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Env = []string{"PATH=/usr/bin:/bin", "GITHUB_TOKEN=" + envToken}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	keysDiffID, err := keys.DiffID()
	if err != nil {
		t.Fatal(err)
	}

	inv, err := image.Read(context.Background(), "oci-layout:"+dir, []inventory.Analyzer{secrets.Analyzer(secrets.Options{})}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := secrets.FromFacts(inv.Files)
	if len(found) != 1 {
		t.Fatalf("file secrets: %+v (the .env was deleted, the png and blob are binary)", found)
	}
	s := found[0]
	if s.Path != "root/.ssh/id_ed25519" || s.Line != 1 || s.Rule != secrets.RulePrivateKey || s.Match != "-----BEGIN OPENSSH PRIVATE KEY-----" {
		t.Errorf("secret = %+v", s)
	}
	if s.Layer == nil || s.Layer.Index != 1 || s.Layer.DiffID != keysDiffID.String() || s.Layer.CreatedBy != "COPY . /" {
		t.Errorf("layer = %+v, want index 1, %s", s.Layer, keysDiffID)
	}

	cs := secrets.ScanConfig(inv.Artifact.Config)
	if len(cs) != 1 || cs[0].Path != secrets.PathEnv || cs[0].Line != 2 || cs[0].Rule != secrets.RuleGitHubPAT {
		t.Fatalf("config secrets = %+v", cs)
	}
	if strings.Contains(cs[0].Match, envToken) {
		t.Errorf("match %q not redacted", cs[0].Match)
	}
}

// TestCorpusNoFalsePositives: real images that hold no secret must yield
// none. dockle-scratch.tar has a file named credentials.json whose text is
// a Dockerfile.
func TestCorpusNoFalsePositives(t *testing.T) {
	for _, name := range []string{"dockle-scratch.tar", "alpine-310.tar.gz", "dive-test-docker-image.tar"} {
		t.Run(name, func(t *testing.T) {
			ref := "docker-archive:" + corpus.Path(t, "images", name)
			inv, err := image.Read(context.Background(), ref, []inventory.Analyzer{secrets.Analyzer(secrets.Options{})}, image.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := append(secrets.FromFacts(inv.Files), secrets.ScanConfig(inv.Artifact.Config)...)
			if len(got) != 0 {
				t.Errorf("secrets in %s: %+v", name, got)
			}
			for _, w := range inv.Warnings {
				if strings.Contains(w, "secrets") {
					t.Errorf("warning: %s", w)
				}
			}
		})
	}
}

// TestCorpusClaims checks the analyzer claims the one text file of the
// scratch image (so the test above does look at it).
func TestCorpusClaims(t *testing.T) {
	a := secrets.Analyzer(secrets.Options{})
	claims := &recorder{Analyzer: a}
	ref := "docker-archive:" + corpus.Path(t, "images", "dockle-scratch.tar")
	if _, err := image.Read(context.Background(), ref, []inventory.Analyzer{claims}, image.Options{}); err != nil {
		t.Fatal(err)
	}
	if len(claims.paths) != 1 || claims.paths[0] != "credentials.json" {
		t.Errorf("analyzed %v", claims.paths)
	}
}

type recorder struct {
	inventory.Analyzer
	paths []string
}

func (r *recorder) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	r.paths = append(r.paths, f.Path)
	return r.Analyzer.Analyze(ctx, f, out)
}
