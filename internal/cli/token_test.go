package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/store"
)

// token create prints the token alone; the store keeps only its hash and
// resolves it to the tenant and scope.
func TestTokenCreate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOME": t.TempDir()}
	code, out, errOut := run(t, env, "", "token", "create", "--data-dir", dir, "--tenant", "acme", "--scope", "ingest")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	tok := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(tok, "vgl_") {
		t.Fatalf("stdout %q", out)
	}
	// The first token of a data dir says it created the database (a
	// mistyped --data-dir); the next one, into the same database, does not.
	if !strings.Contains(errOut, "created a new service database "+filepath.Join(dir, "vigil-server.db")) {
		t.Errorf("first token: stderr %q", errOut)
	}
	if _, _, errOut := run(t, env, "", "token", "create", "--data-dir", dir, "--tenant", "acme", "--scope", "read"); strings.Contains(errOut, "created a new") {
		t.Errorf("second token: stderr %q", errOut)
	}
	keys, err := store.LoadKeyring("", dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Options{DataDir: dir, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Authenticate(context.Background(), tok)
	if err != nil || p.Tenant != "acme" || p.Scope != store.ScopeIngest {
		t.Errorf("authenticate: %+v %v", p, err)
	}
	for _, args := range [][]string{
		{"token", "create", "--data-dir", dir, "--tenant", "acme", "--scope", "root"},
		{"token", "create", "--data-dir", dir, "--scope", "read"},
		{"token", "create", "--database", "mysql://x", "--data-dir", dir, "--tenant", "a", "--scope", "read"},
		{"worker", "--data-dir", dir},
	} {
		if code, out, _ := run(t, env, "", args...); code != ExitScanFailed || out != "" {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
}
