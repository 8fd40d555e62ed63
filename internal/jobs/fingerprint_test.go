package jobs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/image"
)

// A stored layer result is only as current as the walk that made it: when
// the walk's rules change (image.WalkFormat), images inventoried before
// must be read again, like after an analyzer upgrade.
func TestFingerprintNamesWalkFormat(t *testing.T) {
	_, fp := (&Queue{}).analyzers()
	want := "walk@" + strconv.Itoa(image.WalkFormat)
	if !strings.Contains(","+fp+",", ","+want+",") {
		t.Fatalf("fingerprint %q does not name %s", fp, want)
	}
	if !strings.Contains(fp, "apk@") {
		t.Fatalf("fingerprint %q lost the analyzers", fp)
	}
}
