package imagetest

import (
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Step is one build step. A step with nil Entries is metadata-only (ENV,
// USER, CMD ...): it adds a history entry marked empty_layer and no layer.
type Step struct {
	CreatedBy string
	Entries   []Entry
	// Created is the history entry's time, and the ModTime of every entry
	// that has none.
	Created time.Time
}

// Build appends steps to base (empty.Image for an image from scratch), then
// lets cfg, when not nil, edit the runtime config.
func Build(t testing.TB, base v1.Image, cfg func(*v1.Config), steps ...Step) v1.Image {
	t.Helper()
	img := base
	for _, s := range steps {
		h := v1.History{CreatedBy: s.CreatedBy, Created: v1.Time{Time: s.Created}, EmptyLayer: s.Entries == nil}
		if s.Entries == nil {
			img = EditConfigFile(t, img, func(cf *v1.ConfigFile) { cf.History = append(cf.History, h) })
			continue
		}
		entries := make([]Entry, len(s.Entries))
		for i, e := range s.Entries {
			if e.ModTime.IsZero() {
				e.ModTime = s.Created
			}
			entries[i] = e
		}
		var err error
		if img, err = mutate.Append(img, mutate.Addendum{Layer: Layer(t, entries...), History: h}); err != nil {
			t.Fatal(err)
		}
	}
	if cfg != nil {
		img = EditConfigFile(t, img, func(cf *v1.ConfigFile) { cfg(&cf.Config) })
	}
	return img
}

// EditConfigFile returns img with its config file changed by edit (which
// gets a copy), for the platform, history or anything Build does not set.
func EditConfigFile(t testing.TB, img v1.Image, edit func(*v1.ConfigFile)) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	edit(cf)
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// WriteDockerArchive saves img as a `docker save` tar tagged tag in a
// temporary directory and returns its "docker-archive:PATH" reference.
func WriteDockerArchive(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return "docker-archive:" + p
}

// WriteLayout saves img as an OCI image layout in a temporary directory and
// returns its "oci-layout:DIR" reference.
func WriteLayout(t testing.TB, img v1.Image) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return "oci-layout:" + dir
}

// Registry starts go-containerregistry's in-process registry over plain
// HTTP for the test's lifetime and returns its host:port.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// Push writes img to ref (a plain-HTTP registry such as Registry's) and
// returns the parsed reference.
func Push(t testing.TB, img v1.Image, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return r
}
