package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/vigil-scan/vigil/internal/report"
)

// refuseOverwrite fails when an output file is the input at inputPath: the
// same file reached by another name, a symlink or a hard link (os.SameFile
// follows symlinks and compares device and inode). A report written over
// the DB would destroy it for every later scan.
func refuseOverwrite(specs []report.FormatSpec, inputPath, what string) error {
	in, err := os.Stat(inputPath)
	if err != nil {
		return nil
	}
	for _, s := range specs {
		if s.Path == "" {
			continue
		}
		out, err := os.Stat(s.Path)
		if err == nil && os.SameFile(in, out) {
			return fmt.Errorf("%s output %s is %s (%s): choose another file", s.Format, s.Path, what, inputPath)
		}
	}
	return nil
}

// refuseOverwriteImage fails when an output file is the image archive (or
// SBOM, for sbom:) that ref reads: the report would replace the image it
// describes. Directories (oci-layout:, dir:) cannot be written over by a
// report file.
func refuseOverwriteImage(specs []report.FormatSpec, ref string) error {
	p := ref
	for _, prefix := range []string{"docker-archive:", "oci-archive:", "sbom:"} {
		if rest, ok := strings.CutPrefix(ref, prefix); ok {
			p = rest
			break
		}
	}
	if info, err := os.Stat(p); err != nil || !info.Mode().IsRegular() {
		return nil
	}
	return refuseOverwrite(specs, p, "the input this command reads")
}
