package ecosystem

import (
	"io/fs"
	"testing"
)

func TestBinaryFormat(t *testing.T) {
	for in, want := range map[string]string{
		"\x7fELF\x02":         FormatELF,
		"\xcf\xfa\xed\xfe":    FormatMachO,
		"\xfe\xed\xfa\xce":    FormatMachO,
		"\xca\xfe\xba\xbe":    FormatMachOUniversal,
		"MZ\x90\x00":          FormatPE,
		"#!/bin/sh\n":         "",
		"\x7fEL":              "",
		"":                    "",
		"PK\x03\x04 a zip...": "",
	} {
		if got := BinaryFormat([]byte(in)); got != want {
			t.Errorf("BinaryFormat(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsExecutableCandidate(t *testing.T) {
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"usr/bin/app", 0o755, 10, true},
		{"usr/bin/app", 0o644, 10, false},
		{"usr/bin/app", 0o755, 0, false},
		{"usr/share/doc/run", 0o755, 10, false},
		{"usr/bin/huge", 0o755, 1 << 40, false},
	}
	for _, tt := range tests {
		if got := IsExecutableCandidate(tt.path, tt.mode, tt.size); got != tt.want {
			t.Errorf("IsExecutableCandidate(%s, %o, %d) = %v", tt.path, tt.mode, tt.size, got)
		}
	}
}
