package ecosystem

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/inventory"
)

func TestFileCataloger(t *testing.T) {
	c := FileCataloger{
		ID: "test-lock", Limit: 16,
		Match: func(p string) bool { return strings.HasSuffix(p, "test.lock") },
		Parse: func(p string, b []byte) ([]inventory.Package, error) {
			if string(b) == "bad" {
				return nil, errors.New("malformed")
			}
			return []inventory.Package{{Name: string(b), Path: p}}, nil
		},
	}
	if c.Version() != 1 || c.Name() != "test-lock" {
		t.Errorf("name %q version %d", c.Name(), c.Version())
	}
	if !c.Claims("app/test.lock", 0o644, 3) || c.Claims("app/test.lock", fs.ModeSymlink, 3) || c.Claims("app/other", 0o644, 3) {
		t.Error("claims only regular files the match accepts")
	}
	var out inventory.LayerResult
	if err := c.Analyze(context.Background(), inventory.NewFileBytes("app/test.lock", 0o644, []byte("pkg")), &out); err != nil || len(out.Packages) != 1 {
		t.Fatalf("analyze: %v %+v", err, out.Packages)
	}
	err := c.Analyze(context.Background(), inventory.NewFileBytes("app/test.lock", 0o644, []byte("bad")), &out)
	if err == nil || !strings.Contains(err.Error(), "test-lock: parsing app/test.lock: malformed") {
		t.Errorf("parse error = %v", err)
	}
	err = c.Analyze(context.Background(), inventory.NewFileBytes("app/test.lock", 0o644, []byte(strings.Repeat("x", 17))), &out)
	if !errors.Is(err, inventory.ErrFileTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestStreamCataloger(t *testing.T) {
	c := StreamCataloger{
		ID:    "test-db",
		Match: func(p string) bool { return p == "var/lib/test/db" },
		Parse: func(_ context.Context, r io.Reader, p string) ([]inventory.Package, []string, error) {
			b, _ := io.ReadAll(r)
			if string(b) == "corrupt" {
				return nil, nil, errors.New("bad header")
			}
			return []inventory.Package{{Name: "a", Path: p}}, []string{p + ":2: stanza without a name skipped"}, nil
		},
	}
	if !c.Claims("var/lib/test/db", 0o644, 1) || c.Claims("var/lib/test/db", fs.ModeDir, 0) {
		t.Error("claims only the regular file the match accepts")
	}
	var out inventory.LayerResult
	if err := c.Analyze(context.Background(), inventory.NewFileBytes("var/lib/test/db", 0o644, []byte("ok")), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Packages) != 1 || len(out.Warnings) != 1 {
		t.Errorf("packages %d, warnings %v", len(out.Packages), out.Warnings)
	}
	err := c.Analyze(context.Background(), inventory.NewFileBytes("var/lib/test/db", 0o644, []byte("corrupt")), &out)
	if err == nil || err.Error() != "test-db: reading var/lib/test/db: bad header" {
		t.Errorf("err = %v", err)
	}
}

func TestPackageSet(t *testing.T) {
	s := PackageSet{Max: 2}
	merged := 0
	merge := func(kept *inventory.Package, again inventory.Package) { merged++ }
	for _, p := range []inventory.Package{{Name: "b", Version: "1"}, {Name: "a", Version: "2"}, {Name: "b", Version: "1"}} {
		if err := s.Add(p.Name+"@"+p.Version, p, merge); err != nil {
			t.Fatal(err)
		}
	}
	if merged != 1 || len(s.Packages()) != 2 || s.Packages()[0].Name != "b" {
		t.Errorf("merged %d, packages %+v", merged, s.Packages())
	}
	if err := s.Add("c@1", inventory.Package{Name: "c"}, nil); err == nil || !strings.Contains(err.Error(), "more than 2 packages") {
		t.Errorf("over the bound: %v", err)
	}
	if got := s.Sorted(); got[0].Name != "a" {
		t.Errorf("sorted: %+v", got)
	}
}
