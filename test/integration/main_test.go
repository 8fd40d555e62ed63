// Package integration runs the real vigil binary end to end: a DB imported
// from the real feeds of the shared corpus, real and generated images, a
// real registry, and the CI templates' own shell commands.
package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/result"
)

var (
	setupOnce sync.Once
	binPath   string
	dbPath    string
	setupErr  error
	workDir   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-integration-*")
	if err != nil {
		panic(err)
	}
	workDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// setup builds the binary and imports the corpus feeds once per run.
func setup(t *testing.T) {
	t.Helper()
	feeds := corpus.Path(t, "feeds")
	setupOnce.Do(func() {
		binPath = filepath.Join(workDir, "vigil")
		build := exec.Command("go", "build", "-o", binPath, "github.com/vigil-scan/vigil/cmd/vigil")
		if out, err := build.CombinedOutput(); err != nil {
			setupErr = errors.New("go build: " + string(out))
			return
		}
		dbPath = filepath.Join(workDir, "db", "vigil.db")
		imp := exec.Command(binPath, "db", "import", feeds, "--db", dbPath)
		if out, err := imp.CombinedOutput(); err != nil {
			setupErr = errors.New("db import: " + string(out))
		}
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// run is one vigil invocation's outcome.
type run struct {
	code           int
	stdout, stderr string
}

// vigil runs the binary with the test DB, a private cache and a clean
// environment plus env, in dir (a temp dir when "").
func vigil(t *testing.T, dir string, env []string, args ...string) run {
	t.Helper()
	setup(t)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"VIGIL_DB=" + dbPath,
		"VIGIL_CACHE_DIR=" + filepath.Join(workDir, "cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, ".config"),
	}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running vigil: %v", err)
		}
		code = ee.ExitCode()
	}
	return run{code, out.String(), errb.String()}
}

func (r run) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + clip(r.stdout) + "\nstderr:\n" + clip(r.stderr)
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "\n..."
	}
	return s
}

func readReport(t *testing.T, path string) *result.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r result.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

// alpine310 is the corpus's real Alpine 3.10 image.
func alpine310(t *testing.T) v1.Image {
	t.Helper()
	plain := filepath.Join(t.TempDir(), "alpine-310.tar")
	imagetest.Gunzip(t, corpus.Path(t, "images", "alpine-310.tar.gz"), plain)
	img, err := tarball.ImageFromPath(plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustRead(t *testing.T, elem ...string) string {
	t.Helper()
	b, err := os.ReadFile(corpus.Path(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testKey is a throwaway RSA key generated for this test suite; it
// protects nothing.
const testKey = `-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu
KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm
o3qGy0t6z09AIJtH+5OeRV1be+N4cDYJKffGzDa88vQENZiRm0GRq6a+HPGQMd2k
TQIhAKMSvzIBnni7ot/OSie2TmJLY4SwTQAevXysE2RbFDYdAiEBCUEaRQnMnbp7
9mxDXDf6AU0cN/RPBjb9qSHDcWZHGzUCIG2Es59z8ugGrDY+pxLQnwfotadxd+Uy
v/Ow5T0q5gIJAiEAyS4RaI9YG8EWx/2w0T67ZUVAw8eOMB6BIUg0Xcu+3okCIBOs
/5OiPgoTdSy7bcF9IGpSE8ZgGKzgYQVZeN97YE00
-----END RSA PRIVATE KEY-----
`

// vulnerableImage is the real Alpine 3.10 image plus a Go 1.15.2 binary
// (trivy's test binary from the corpus), a Pipfile.lock pinning urllib3
// 1.24.2 and idna 2.8 (HIGH by their CVSS vectors), a private key, an `apk add`
// without --no-cache, a setuid file, secrets in ENV and a root user:
// something for every gate, check and secret rule to bite on.
func vulnerableImage(t *testing.T) v1.Image {
	t.Helper()
	built := time.Unix(1700000000, 0)
	step := func(createdBy string, entries ...imagetest.Entry) imagetest.Step {
		return imagetest.Step{CreatedBy: createdBy, Entries: entries, Created: built}
	}
	return imagetest.Build(t, alpine310(t), func(c *v1.Config) {
		c.Env = append(c.Env, "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "DB_PASSWORD=hunter2-but-longer-Xq9")
		c.User = ""
		c.Cmd = []string{"/usr/local/bin/app"}
	},
		step("/bin/sh -c apk add curl", imagetest.Entry{Name: "usr/bin/curl-stub", Body: "#!/bin/sh\n", Mode: 0o755}),
		step("COPY app /usr/local/bin/app # buildkit", imagetest.Entry{Name: "usr/local/bin/app", Body: mustRead(t, "pkgdb", "go-binary", "trivy-test.elf"), Mode: 0o755}),
		step("COPY Pipfile.lock /app/ # buildkit", imagetest.Entry{Name: "app/Pipfile.lock", Body: mustRead(t, "pkgdb", "python", "trivy-pipenv", "Pipfile.lock")}),
		step("ADD id_rsa /root/.ssh/id_rsa # buildkit", imagetest.Entry{Name: "root/.ssh/id_rsa", Body: testKey, Mode: 0o600}),
		step("RUN /bin/sh -c chmod u+s /usr/local/bin/helper # buildkit", imagetest.Entry{Name: "usr/local/bin/helper", Body: "#!/bin/sh\n", Mode: 0o4755}),
		step(`/bin/sh -c #(nop)  CMD ["/usr/local/bin/app"]`),
	)
}
