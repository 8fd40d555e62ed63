package image

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// assertEmptyDir fails when dir has anything left in it (temp files leaked).
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func TestRegistryTag(t *testing.T) {
	for ref, want := range map[string]string{
		"alpine":            "latest",
		"alpine:3.20":       "3.20",
		"host:5000/app:1.0": "1.0",
		"host:5000/app":     "latest",
		"alpine@sha256:" + strings.Repeat("a", 64): "",
		"docker-archive:app.tar":                   "",
		"oci-layout:./img":                         "",
		"dir:/":                                    "",
		"UPPER/case":                               "",
		"app.tar":                                  "",
		"/srv/images/alpine-310.tar.gz":            "",
		"./img":                                    "",
	} {
		if got := RegistryTag(ref); got != want {
			t.Errorf("RegistryTag(%q) = %q, want %q", ref, got, want)
		}
	}
}
