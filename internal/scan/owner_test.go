package scan

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/vigil-scan/vigil/internal/catalog"
	"github.com/vigil-scan/vigil/internal/corpus"
	"github.com/vigil-scan/vigil/internal/image"
	"github.com/vigil-scan/vigil/internal/imagetest"
	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/match"
	"github.com/vigil-scan/vigil/internal/policy"
	"github.com/vigil-scan/vigil/internal/result"
)

func corpusText(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(corpus.Path(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// djangoImage is Debian 10 (the corpus' os-release) with python3-django
// 1:1.11.28-1~deb10u1 installed by dpkg, as buster shipped it before
// DSA-4705-1: its distutils metadata Django-1.11.28.egg-info/PKG-INFO in
// dist-packages, listed in python3-django.list, beside a .dist-info of the
// same distribution (one install, one package). A second layer pip-installs
// the same Django version under /usr/local, which no OS package owns. The
// dpkg stanza, the file list and the metadata files are small fixtures
// written here (no Debian image is in the corpus); the advisories are the
// corpus' PyPI OSV records and Debian DSA list.
func djangoImage(t *testing.T) string {
	t.Helper()
	const site = "usr/lib/python3/dist-packages/"
	pkgInfo := "Metadata-Version: 1.1\nName: Django\nVersion: 1.11.28\nLicense: BSD\n"
	status := "Package: python3-django\nStatus: install ok installed\nArchitecture: all\nSource: python-django\nVersion: 1:1.11.28-1~deb10u1\n\n"
	list := strings.Join([]string{"/.", "/usr", "/usr/lib", "/usr/lib/python3", "/usr/lib/python3/dist-packages",
		"/" + site + "Django-1.11.28.egg-info", "/" + site + "Django-1.11.28.egg-info/PKG-INFO",
		"/" + site + "django", "/" + site + "django/__init__.py"}, "\n") + "\n"
	img := imagetest.Build(t, empty.Image, nil,
		imagetest.Step{CreatedBy: "FROM debian:10", Entries: []imagetest.Entry{
			{Name: "etc/os-release", Body: corpusText(t, "pkgdb", "os-release", "claircore-debian-10", "etc", "os-release")},
			{Name: "var/lib/dpkg/status", Body: status},
		}},
		imagetest.Step{CreatedBy: "RUN apt-get install -y python3-django", Entries: []imagetest.Entry{
			{Name: "var/lib/dpkg/status", Body: status},
			{Name: "var/lib/dpkg/info/python3-django.list", Body: list},
			{Name: site + "Django-1.11.28.egg-info/PKG-INFO", Body: pkgInfo},
			{Name: site + "Django-1.11.28.dist-info/METADATA", Body: pkgInfo},
			{Name: site + "django/__init__.py", Body: "\n"},
		}},
		imagetest.Step{CreatedBy: "RUN pip install django==1.11.28", Entries: []imagetest.Entry{
			{Name: "usr/local/lib/python3.7/dist-packages/Django-1.11.28.dist-info/METADATA", Body: pkgInfo},
		}},
	)
	return imagetest.WriteLayout(t, img)
}

func TestOSOwnedPythonPackage(t *testing.T) {
	db := feedDB(t, "osv/PyPI", "debian/dsa")
	opts := Options{Matcher: match.New(db, match.Options{}), Image: imageOptions(t), Extras: Extras{Gate: policy.GateOptions{Threshold: "low"}}}
	r, err := Image(context.Background(), djangoImage(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	var owned, pip *inventory.Package
	for i, p := range r.Packages {
		if p.Type != inventory.TypePyPI {
			continue
		}
		switch {
		case strings.HasPrefix(p.Path, "usr/lib/python3/"):
			if owned != nil {
				t.Fatalf("two packages for one install: %s and %s", owned.Path, p.Path)
			}
			owned = &r.Packages[i]
		case strings.HasPrefix(p.Path, "usr/local/"):
			pip = &r.Packages[i]
		}
	}
	if owned == nil || pip == nil {
		t.Fatalf("packages %+v", r.Packages)
	}
	if owned.Path != "usr/lib/python3/dist-packages/Django-1.11.28.dist-info/METADATA" {
		t.Errorf("merged package kept %s, want the .dist-info", owned.Path)
	}
	if want := (inventory.Owner{Type: "deb", Name: "python3-django"}); owned.Owner == nil || *owned.Owner != want {
		t.Errorf("owner = %+v, want %+v", owned.Owner, want)
	}
	if pip.Owner != nil {
		t.Errorf("pip-installed package owned by %+v", pip.Owner)
	}

	var ownedIDs, pipIDs, debIDs []string
	counted := 0
	for _, f := range r.Vulnerabilities {
		switch {
		case f.Package.Path == owned.Path:
			s := f.Suppressed
			if s == nil || s.Kind != policy.KindOSPackage || s.Rule != "deb:python3-django" || s.Owner == nil || s.Owner.Name != "python3-django" {
				t.Errorf("%s on the deb-owned Django: suppressed = %+v", f.ID, s)
			}
			ownedIDs = append(ownedIDs, f.ID)
		case f.Package.Path == pip.Path:
			if f.Suppressed != nil {
				t.Errorf("%s on pip's Django suppressed: %+v", f.ID, f.Suppressed)
			}
			pipIDs = append(pipIDs, f.ID)
			counted++
		case f.Package.Type == inventory.TypeDeb:
			if f.Suppressed != nil {
				t.Errorf("%s on python3-django suppressed", f.ID)
			}
			debIDs = append(debIDs, f.ID)
			counted++
		}
	}
	// The same PyPI advisories hit both copies; only the pip one counts.
	slices.Sort(ownedIDs)
	slices.Sort(pipIDs)
	if len(ownedIDs) == 0 || !slices.Equal(ownedIDs, pipIDs) {
		t.Errorf("owned copy's findings %v, pip copy's %v", ownedIDs, pipIDs)
	}
	// The distribution's own advisory decides for its package: DSA-4705-1
	// fixed CVE-2020-13254 in 1:1.11.29-1~deb10u1.
	if !slices.Contains(debIDs, "CVE-2020-13254") {
		t.Errorf("python3-django findings %v lack CVE-2020-13254 (DSA-4705-1)", debIDs)
	}
	if r.Summary.Total != counted || r.Summary.Suppressed != len(ownedIDs) {
		t.Errorf("summary total %d suppressed %d, want %d and %d", r.Summary.Total, r.Summary.Suppressed, counted, len(ownedIDs))
	}
}

// ownersOf inventories the image built from one layer of entries and
// returns the owners of its language packages by name.
func ownersOf(t *testing.T, entries ...imagetest.Entry) map[string]*inventory.Owner {
	t.Helper()
	ref := imagetest.WriteLayout(t, imagetest.Build(t, empty.Image, nil, imagetest.Step{CreatedBy: "COPY . /", Entries: entries}))
	inv, err := Inventory(context.Background(), ref, Options{Image: imageOptions(t)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*inventory.Owner{}
	for _, p := range inv.Packages {
		if !p.IsOS() {
			out[p.Name] = p.Owner
		}
	}
	return out
}

// Grype's Alpine match-coverage fixture, all corpus data: an npm module
// installed by an apk subpackage, listed by the database's F:/R: lines.
func TestOwnerApkNPM(t *testing.T) {
	const mod = "lib/node_modules/npm-apk-subpackage-with-false-positive/package.json"
	owners := ownersOf(t,
		imagetest.Entry{Name: "etc/os-release", Body: corpusText(t, "pkgdb", "apk", "grype-alpine-match-coverage", "etc", "os-release")},
		imagetest.Entry{Name: "lib/apk/db/installed", Body: corpusText(t, "pkgdb", "apk", "grype-alpine-match-coverage", "lib", "apk", "db", "installed")},
		imagetest.Entry{Name: mod, Body: corpusText(t, "pkgdb", "npm", "grype-global-node_modules", mod)},
	)
	o, ok := owners["npm-apk-subpackage-with-false-positive"]
	if want := (inventory.Owner{Type: "apk", Name: "npm-apk-subpackage-with-false-positive"}); !ok || o == nil || *o != want {
		t.Errorf("owners = %v, want %+v", owners, want)
	}
}

// Amazon Linux 2023's real rpmdb (corpus) installs Python distributions
// from python3-* rpms, as a distutils .egg-info file (gpg, rpm) and an
// .egg-info directory (libcomps). The metadata files are minimal fixtures
// at the paths the rpmdb lists; the pip copy beside them is not listed.
func TestOwnerRPMPython(t *testing.T) {
	const sp = "usr/lib64/python3.9/site-packages/"
	meta := func(name, version string) string {
		return "Metadata-Version: 1.1\nName: " + name + "\nVersion: " + version + "\n"
	}
	owners := ownersOf(t,
		imagetest.Entry{Name: "etc/os-release", Body: "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nVERSION_ID=\"2023\"\n"},
		imagetest.Entry{Name: "var/lib/rpm/rpmdb.sqlite", Body: corpusText(t, "pkgdb", "rpm", "gorpmdb-amazonlinux2023", "var", "lib", "rpm", "rpmdb.sqlite")},
		imagetest.Entry{Name: sp + "gpg-1.15.1-py3.9.egg-info", Body: meta("gpg", "1.15.1")},
		imagetest.Entry{Name: sp + "rpm-4.16.1.3-py3.9.egg-info", Body: meta("rpm", "4.16.1.3")},
		imagetest.Entry{Name: sp + "libcomps-0.1.18-py3.9.egg-info/PKG-INFO", Body: meta("libcomps", "0.1.18")},
		imagetest.Entry{Name: "usr/local/lib/python3.9/site-packages/requests-2.31.0.dist-info/METADATA", Body: meta("requests", "2.31.0")},
	)
	want := map[string]string{"gpg": "python3-gpg", "rpm": "python3-rpm", "libcomps": "python3-libcomps", "requests": ""}
	if len(owners) != len(want) {
		t.Fatalf("packages %v", owners)
	}
	for name, owner := range want {
		o := owners[name]
		switch {
		case owner == "" && o != nil:
			t.Errorf("%s owned by %+v", name, o)
		case owner != "" && (o == nil || o.Type != "rpm" || o.Name != owner):
			t.Errorf("%s: owner %+v, want rpm %s", name, o, owner)
		}
	}
}

// The service stores layer results as JSON and re-evaluates an image from
// them (image.Assemble) when the DB changes: ownership and its suppressions
// must come out the same as from the image itself.
func TestOwnerSurvivesStoredLayers(t *testing.T) {
	db := feedDB(t, "osv/PyPI", "debian/dsa")
	ref := djangoImage(t)
	analyzers := catalog.Packages()
	inv, layers, err := image.ReadVerified(context.Background(), ref, analyzers, imageOptions(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := make([]*inventory.LayerResult, len(layers))
	for i, l := range layers {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &stored[i]); err != nil {
			t.Fatal(err)
		}
	}
	again := image.Assemble(inv.Artifact, stored, analyzers)
	opts := Options{Matcher: match.New(db, match.Options{})}
	want, err := Evaluate(context.Background(), inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Evaluate(context.Background(), again, opts)
	if err != nil {
		t.Fatal(err)
	}
	suppressed := func(r *result.Report) []string {
		var out []string
		for _, f := range r.Vulnerabilities {
			if f.Suppressed != nil {
				out = append(out, f.ID+" "+f.Suppressed.Kind+" "+f.Suppressed.Rule)
			}
		}
		return out
	}
	if w, g := suppressed(want), suppressed(got); len(w) == 0 || !slices.Equal(w, g) {
		t.Errorf("suppressed from the image %v, from stored layers %v", w, g)
	}
	if want.Summary.Total != got.Summary.Total || want.Summary.Suppressed != got.Summary.Suppressed {
		t.Errorf("summary %+v vs %+v", want.Summary, got.Summary)
	}
}
