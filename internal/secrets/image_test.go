package secrets_test

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/secrets"
)

const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n"

// The token is assembled at run time so this file holds no token literal.
var envToken = "ghp_" + strings.Repeat("Vg1l", 9)

func TestImage(t *testing.T) {
	// Files are 0600; a name starting with ".wh." deletes the file.
	img := imagetest.Build(t, empty.Image, nil,
		imagetest.Step{CreatedBy: "ADD rootfs /", Entries: []imagetest.Entry{
			{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.20.0\n", Mode: 0o600},
			{Name: "etc/motd", Body: "Welcome!\n", Mode: 0o600},
		}},
		imagetest.Step{CreatedBy: "COPY . /", Entries: []imagetest.Entry{
			{Name: "root/.ssh/config", Body: "Host *\n  StrictHostKeyChecking no\n", Mode: 0o600},
			{Name: "root/.ssh/id_ed25519", Body: privateKey, Mode: 0o600},
			{Name: "app/.env", Body: "GITHUB_TOKEN=" + envToken + "\n", Mode: 0o600},
			{Name: "app/logo.png", Body: "\x89PNG\r\n\x1a\n" + envToken, Mode: 0o600},
			{Name: "app/blob", Body: "GITHUB_TOKEN=" + envToken + "\x00", Mode: 0o600},
		}},
		imagetest.Step{CreatedBy: "RUN rm /app/.env", Entries: []imagetest.Entry{{Name: "app/.wh..env", Mode: 0o600}}},
	)
	img = imagetest.EditConfigFile(t, img, func(cf *v1.ConfigFile) {
		cf.OS, cf.Architecture = "linux", "amd64"
		cf.Config.Env = []string{"PATH=/usr/bin:/bin", "GITHUB_TOKEN=" + envToken}
	})
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	keysDiffID, err := layers[1].DiffID()
	if err != nil {
		t.Fatal(err)
	}

	inv, err := image.Read(context.Background(), imagetest.WriteLayout(t, img), []inventory.Analyzer{secrets.Analyzer(secrets.Options{})}, image.Options{})
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

	// The inventory's config is masked when read; the clear copy is kept
	// for the scanners only.
	if strings.Contains(strings.Join(inv.Artifact.Config.Env, " "), envToken) {
		t.Errorf("Artifact.Config.Env holds the token in clear: %q", inv.Artifact.Config.Env)
	}
	cs := secrets.ScanConfig(inv.UnredactedConfig)
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
