package cli

import (
	"strings"
	"testing"
)

// --max-body and server.max_body take a positive size; anything else is a
// clear error naming where it came from, never the default in disguise.
func TestMaxBodySetting(t *testing.T) {
	for _, c := range []struct {
		flag, file string
		want       int64
	}{
		{"", "", 0},
		{"64MiB", "", 64 << 20},
		{"", "32MiB", 32 << 20},
		{"1MiB", "32MiB", 1 << 20}, // the flag wins
	} {
		if got, err := maxBodySetting(c.flag, c.file); err != nil || got != c.want {
			t.Errorf("maxBodySetting(%q, %q) = %d, %v; want %d", c.flag, c.file, got, err, c.want)
		}
	}
	for _, c := range []struct{ flag, file, name string }{
		{"-3", "", "--max-body"},
		{"abc", "", "--max-body"},
		{"0", "", "--max-body"},
		{"2TiB", "", "--max-body"},
		{"", "lots", "config server.max_body"},
	} {
		_, err := maxBodySetting(c.flag, c.file)
		if err == nil || !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), "want a positive size") {
			t.Errorf("maxBodySetting(%q, %q): err = %v, want one naming %s", c.flag, c.file, err, c.name)
		}
	}
}
