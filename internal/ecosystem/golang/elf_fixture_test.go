package golang

import (
	"encoding/binary"
	"runtime/debug"
)

// tinyGoELF builds the smallest ELF file debug/buildinfo accepts: a header,
// one writable PT_LOAD segment, and in it the Go 1.18+ build-info blob
// (magic, inline version and module-info strings). It stands in for real
// binaries in edge-case tests and fuzz seeds.
func tinyGoELF(goVersion string, info *debug.BuildInfo) []byte {
	blob := append([]byte("\xff Go buildinf:"), 8, 0x2)
	blob = append(blob, make([]byte, 32-len(blob))...)
	// ParseBuildInfo wants the sentinel-wrapped text the linker embeds.
	mod := "0w\xaf\x0c\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6" + info.String() + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	blob = binary.AppendUvarint(blob, uint64(len(goVersion)))
	blob = append(blob, goVersion...)
	blob = binary.AppendUvarint(blob, uint64(len(mod)))
	blob = append(blob, mod...)

	const dataOff, vaddr = 128, 0x10000
	le := binary.LittleEndian
	out := make([]byte, dataOff, dataOff+len(blob))
	copy(out, "\x7fELF\x02\x01\x01")
	le.PutUint16(out[16:], 2)  // ET_EXEC
	le.PutUint16(out[18:], 62) // EM_X86_64
	le.PutUint32(out[20:], 1)  // EV_CURRENT
	le.PutUint64(out[32:], 64) // e_phoff
	le.PutUint16(out[52:], 64) // e_ehsize
	le.PutUint16(out[54:], 56) // e_phentsize
	le.PutUint16(out[56:], 1)  // e_phnum
	le.PutUint16(out[58:], 64) // e_shentsize
	ph := out[64:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 6) // PF_R|PF_W
	le.PutUint64(ph[8:], dataOff)
	le.PutUint64(ph[16:], vaddr)
	le.PutUint64(ph[24:], vaddr)
	le.PutUint64(ph[32:], uint64(len(blob)))
	le.PutUint64(ph[40:], uint64(len(blob)))
	le.PutUint64(ph[48:], 16)
	return append(out, blob...)
}
