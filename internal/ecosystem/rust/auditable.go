package rust

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/vigil-scan/vigil/internal/ecosystem"
	"github.com/vigil-scan/vigil/internal/inventory"
)

const (
	// maxSectionBytes bounds the compressed .dep-v0 section; cargo-auditable
	// output is a few kilobytes even for large dependency trees.
	maxSectionBytes = 4 << 20
	// maxAuditJSONBytes bounds the decompressed JSON (zlib bombs).
	maxAuditJSONBytes = 16 << 20
)

type auditableAnalyzer struct{}

func (auditableAnalyzer) Name() string { return "cargo-auditable" }
func (auditableAnalyzer) Version() int { return 1 }

// Claims takes executable candidates, like the Go binary cataloger: only
// the content tells a Rust binary apart.
func (auditableAnalyzer) Claims(path string, mode fs.FileMode, size int64) bool {
	return ecosystem.IsExecutableCandidate(path, mode, size)
}

func (auditableAnalyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	magic, err := f.Peek(4)
	if err != nil {
		return fmt.Errorf("cargo-auditable: reading %s: %w", f.Path, err)
	}
	format := ecosystem.BinaryFormat(magic)
	if format == "" {
		return nil
	}
	ra, size, err := f.ReaderAt()
	if err != nil {
		return fmt.Errorf("cargo-auditable: reading %s: %w", f.Path, err)
	}
	section, err := depSection(format, io.NewSectionReader(ra, 0, size))
	if err != nil || section == nil {
		// Not parseable as a binary or no audit data: the common case of an
		// ordinary executable, not worth a warning.
		return nil
	}
	pkgs, err := ParseAuditData(f.Path, section)
	if err != nil {
		return fmt.Errorf("cargo-auditable: %s: %w", f.Path, err)
	}
	out.Packages = append(out.Packages, pkgs...)
	return nil
}

// depSection returns the raw (compressed) cargo-auditable section, or nil
// when the binary has none.
func depSection(format string, r io.ReaderAt) ([]byte, error) {
	var sr *io.SectionReader
	switch format {
	case ecosystem.FormatELF:
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if s := f.Section(".dep-v0"); s != nil && s.Type != elf.SHT_NOBITS {
			sr = io.NewSectionReader(s, 0, int64(s.Size))
		}
	case ecosystem.FormatMachO:
		f, err := macho.NewFile(r)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if s := f.Section("__dep_v0"); s != nil {
			sr = io.NewSectionReader(s, 0, int64(s.Size))
		}
	case ecosystem.FormatPE:
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if s := f.Section(".dep-v0"); s != nil {
			// Raw data is padded to the file alignment; VirtualSize, when
			// set, is the real length.
			n := s.Size
			if s.VirtualSize != 0 {
				n = min(n, s.VirtualSize)
			}
			sr = io.NewSectionReader(s, 0, int64(n))
		}
	}
	if sr == nil {
		return nil, nil
	}
	if sr.Size() > maxSectionBytes {
		return nil, fmt.Errorf(".dep-v0 section of %d bytes exceeds %d", sr.Size(), maxSectionBytes)
	}
	return io.ReadAll(sr)
}

// auditData is cargo-auditable's embedded dependency list.
type auditData struct {
	Packages []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Source  string `json:"source"`
		Kind    string `json:"kind"`
		Root    bool   `json:"root"`
	} `json:"packages"`
}

// ParseAuditData decodes a zlib-compressed cargo-auditable section into
// packages. Build-only dependencies (kind "build": build scripts and their
// helpers) are left out because their code is not in the binary.
func ParseAuditData(path string, compressed []byte) ([]inventory.Package, error) {
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("decompressing audit data: %w", err)
	}
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, maxAuditJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("decompressing audit data: %w", err)
	}
	if len(raw) > maxAuditJSONBytes {
		return nil, fmt.Errorf("audit data exceeds %d bytes decompressed", maxAuditJSONBytes)
	}
	var data auditData
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("decoding audit data: %w", err)
	}
	var c collector
	for _, p := range data.Packages {
		if p.Kind == "build" {
			continue
		}
		if p.Name == "" || p.Version == "" {
			return nil, errors.New("audit data package without name or version")
		}
		pkg := newPackage(path, p.Name, p.Version, p.Source)
		if p.Root {
			pkg.Metadata["cargo.root"] = "true"
		}
		if err := c.add(pkg); err != nil {
			return nil, err
		}
	}
	return c.set.Packages(), nil
}
