package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-scan/vigil/internal/result"
)

// FormatSpec is one requested output: a format and the file it goes to
// (empty Path means standard output).
type FormatSpec struct {
	Format string
	Path   string
}

// ParseFormatSpecs parses "table", "json", "sarif=out.sarif" ...: several
// formats may be written at once, at most one of them to standard output.
func ParseFormatSpecs(specs []string) ([]FormatSpec, error) {
	out := make([]FormatSpec, 0, len(specs))
	stdout := ""
	paths := map[string]string{}
	for _, s := range specs {
		format, path, _ := strings.Cut(strings.TrimSpace(s), "=")
		format = strings.ToLower(strings.TrimSpace(format))
		path = strings.TrimSpace(path)
		if format == "" {
			return nil, fmt.Errorf("output %q: missing format name (supported: %s)", s, strings.Join(Formats(), ", "))
		}
		if _, ok := writers[format]; !ok {
			return nil, fmt.Errorf("output %q: unknown format %q (supported: %s)", s, format, strings.Join(Formats(), ", "))
		}
		if strings.Contains(s, "=") && path == "" {
			return nil, fmt.Errorf("output %q: empty file name after '='", s)
		}
		if path == "" {
			if stdout != "" {
				return nil, fmt.Errorf("formats %q and %q both write to standard output; give one of them a file (format=path)", stdout, format)
			}
			stdout = format
		} else {
			clean := filepath.Clean(path)
			if prev, ok := paths[clean]; ok {
				return nil, fmt.Errorf("formats %q and %q both write to %s", prev, format, path)
			}
			paths[clean] = format
		}
		out = append(out, FormatSpec{Format: format, Path: path})
	}
	return out, nil
}

// CheckWritable reports, before a scan starts, whether every output file
// can be created: its directory must exist and accept new files, and the
// path must not be a directory.
func CheckWritable(specs []FormatSpec) error {
	var errs []error
	for _, s := range specs {
		if s.Path == "" {
			continue
		}
		if fi, err := os.Stat(s.Path); err == nil && fi.IsDir() {
			errs = append(errs, fmt.Errorf("%s output %s: is a directory", s.Format, s.Path))
			continue
		}
		dir := filepath.Dir(s.Path)
		f, err := os.CreateTemp(dir, ".vigil-check-*")
		if err != nil {
			errs = append(errs, fmt.Errorf("%s output %s: cannot create files in %s: %w", s.Format, s.Path, dir, err))
			continue
		}
		name := f.Name()
		f.Close()
		os.Remove(name)
	}
	return errors.Join(errs...)
}

// WriteAll renders r in every requested format: to stdout when the spec has
// no path, else atomically to the file (a temporary file in the same
// directory renamed into place, so readers never see half a report). Colour
// applies to standard output only: a file never gets ANSI escapes. It goes
// on after a failed output and returns every error.
func WriteAll(specs []FormatSpec, stdout io.Writer, r *result.Report, opts Options) error {
	fileOpts := opts
	fileOpts.Color = false
	var errs []error
	for _, s := range specs {
		var err error
		if s.Path == "" {
			err = Write(stdout, s.Format, r, opts)
		} else {
			err = writeFileAtomic(s, r, fileOpts)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func writeFileAtomic(s FormatSpec, r *result.Report, opts Options) (err error) {
	if st, err := os.Stat(s.Path); err == nil && !st.Mode().IsRegular() {
		// A device or a pipe (--output /dev/null, /dev/stderr, a FIFO) is
		// written in place: renaming a file over it would replace
		// /dev/null itself when run as root.
		return writeInPlace(s, r, opts)
	}
	dir, base := filepath.Split(s.Path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s output %s: %w", s.Format, s.Path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = Write(tmp, s.Format, r, opts); err != nil {
		return fmt.Errorf("writing %s: %w", s.Path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s output %s: %w", s.Format, s.Path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s output %s: %w", s.Format, s.Path, err)
	}
	if err = os.Rename(tmp.Name(), s.Path); err != nil {
		return fmt.Errorf("writing %s output %s: %w", s.Format, s.Path, err)
	}
	return nil
}

func writeInPlace(s FormatSpec, r *result.Report, opts Options) error {
	f, err := os.OpenFile(s.Path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s output %s: %w", s.Format, s.Path, err)
	}
	if err := Write(f, s.Format, r, opts); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", s.Path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s output %s: %w", s.Format, s.Path, err)
	}
	return nil
}
