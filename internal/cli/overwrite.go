package cli

import (
	"fmt"
	"os"

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
