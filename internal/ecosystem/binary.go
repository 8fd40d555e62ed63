package ecosystem

import (
	"io/fs"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// IsExecutableCandidate is the claim of the catalogers that read compiled
// executables (Go build info, cargo-auditable data), which have no telling
// name or location: a non-empty regular file with an executable bit, no
// larger than a file may be read, outside usr/share (documentation and
// data, never binaries).
func IsExecutableCandidate(path string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && mode&0o111 != 0 && size > 0 && size <= inventory.DefaultMaxFileSize &&
		!strings.HasPrefix(path, "usr/share/")
}

// Executable formats BinaryFormat tells apart.
const (
	FormatELF            = "elf"
	FormatMachO          = "macho"
	FormatMachOUniversal = "macho-universal"
	FormatPE             = "pe"
)

// BinaryFormat names the executable format b (the first bytes of a file)
// starts with, or returns "" for anything else.
func BinaryFormat(b []byte) string {
	if len(b) < 4 {
		return ""
	}
	switch string(b[:4]) {
	case "\x7fELF":
		return FormatELF
	case "\xfe\xed\xfa\xce", "\xfe\xed\xfa\xcf", // big-endian 32/64
		"\xce\xfa\xed\xfe", "\xcf\xfa\xed\xfe": // little-endian 32/64
		return FormatMachO
	case "\xca\xfe\xba\xbe": // also Java class files; their parse then fails harmlessly
		return FormatMachOUniversal
	}
	if b[0] == 'M' && b[1] == 'Z' {
		return FormatPE
	}
	return ""
}
