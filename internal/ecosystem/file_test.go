package ecosystem

import (
	"context"
	"errors"
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
