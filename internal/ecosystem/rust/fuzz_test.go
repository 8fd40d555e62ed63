package rust

import (
	"bytes"
	"testing"

	"github.com/vigil-scan/vigil/internal/ecosystem"
)

func FuzzCargoLock(f *testing.F) {
	f.Add([]byte("version = 3\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseCargoLock("Cargo.lock", data)
	})
}

// FuzzAuditable fuzzes both the section lookup in binary containers and the
// decoding of the compressed section itself.
func FuzzAuditable(f *testing.F) {
	f.Add(compress(f, []byte(`{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","root":true}]}`)))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseAuditData("bin/x", data)
		if format := ecosystem.BinaryFormat(data); format != "" {
			depSection(format, bytes.NewReader(data))
		}
	})
}
