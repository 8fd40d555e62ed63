package inventory

import (
	"reflect"
	"testing"
)

func TestOwnableFile(t *testing.T) {
	for path, want := range map[string]bool{
		"usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA":         true,
		"usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD":           false,
		"usr/lib/python3/dist-packages/x.egg-info/PKG-INFO":                   true,
		"usr/lib64/python3.9/site-packages/gpg-1.15.1-py3.9.egg-info":         true,
		"usr/lib/python3/dist-packages/x.egg/EGG-INFO/PKG-INFO":               true,
		"usr/share/doc/METADATA":                                              false,
		"usr/lib/node_modules/npm/package.json":                               true,
		"usr/share/nodejs/acorn/package.json":                                 false,
		"usr/share/java/commons-io.jar":                                       true,
		"usr/share/rubygems-integration/all/specifications/rake-13.0.gemspec": true,
		"usr/share/php/vendor/composer/installed.json":                        true,
		"usr/bin/python3": false,
	} {
		if got := OwnableFile(path); got != want {
			t.Errorf("OwnableFile(%q) = %v", path, got)
		}
	}
	if got := KeepOwnable(nil, "/usr/share/java/a.jar"); !reflect.DeepEqual(got, []string{"usr/share/java/a.jar"}) {
		t.Errorf("KeepOwnable = %q", got)
	}
}

func TestMergePythonMetadata(t *testing.T) {
	const sp = "usr/lib/python3/dist-packages/"
	py := func(name, version, path string) Package {
		return Package{Type: TypePyPI, Name: name, Version: version, Path: path}
	}
	deb := &Owner{Type: TypeDeb, Name: "python3-pyyaml"}
	egg := py("PyYAML", "6.0", sp+"PyYAML-6.0.egg-info/PKG-INFO")
	egg.Owner, egg.Licenses = deb, []string{"MIT"}
	in := []Package{
		{Type: TypeDeb, Name: "python3-pyyaml", Version: "6.0-3", Path: "var/lib/dpkg/status"},
		py("pyyaml", "6.0", sp+"PyYAML-6.0.dist-info/METADATA"),
		egg,
		py("PyYAML", "5.4", sp+"PyYAML-5.4.egg-info"),                                               // another version: kept
		py("PyYAML", "6.0", "usr/local/lib/python3.11/dist-packages/PyYAML-6.0.dist-info/METADATA"), // another dir: kept
		py("PyYAML", "6.0", "app/requirements.txt"),                                                 // not installed metadata: kept
	}
	got := MergePythonMetadata(append([]Package(nil), in...))
	want := []Package{in[0], in[1], in[3], in[4], in[5]}
	want[1].Owner, want[1].Licenses = deb, []string{"MIT"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The .dist-info is kept whichever comes first.
	got = MergePythonMetadata([]Package{egg, py("pyyaml", "6.0", sp+"PyYAML-6.0.dist-info/METADATA")})
	if len(got) != 1 || got[0].Path != sp+"PyYAML-6.0.dist-info/METADATA" || got[0].Owner != deb {
		t.Errorf("got %+v", got)
	}
}

func TestAssignOwnersFirstListWins(t *testing.T) {
	const f = "usr/share/java/a.jar"
	pkgs := []Package{
		{Type: TypeRPM, Name: "a"}, {Type: TypeRPM, Name: "b"},
		{Type: TypeMaven, Name: "g:a", Path: f},
	}
	AssignOwners(pkgs, []OwnedFiles{
		{Path: "db", Owner: Owner{Type: TypeRPM, Name: "missing"}, Files: []string{f}},
		{Path: "db", Owner: Owner{Type: TypeRPM, Name: "b"}, Files: []string{f}},
		{Path: "db", Owner: Owner{Type: TypeRPM, Name: "a"}, Files: []string{f}},
	})
	if o := pkgs[2].Owner; o == nil || o.Name != "b" {
		t.Errorf("owner = %+v, want b (first installed)", o)
	}
	if pkgs[0].Owner != nil || pkgs[1].Owner != nil {
		t.Error("OS packages got owners")
	}
}
