package image

import (
	"bytes"
	"os"
	"strconv"
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
