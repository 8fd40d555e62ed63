package inventory

import (
	"context"
	"io/fs"
)

// An Analyzer looks at the files of one layer. The layer walk offers every
// entry to every analyzer's Claims; only claimed files are read, once, and
// handed to Analyze. Analyzers must be safe for concurrent use: the same
// analyzer instance serves many layers and many scans at the same time.
//
// Catalogers (package finders) are analyzers that add Packages to the
// LayerResult; best-practice checks and secret detection add FileFacts.
type Analyzer interface {
	// Name identifies the analyzer in errors, logs and the layer cache key.
	Name() string
	// Version changes whenever the analyzer's output for the same input
	// changes, so cached layer results are recomputed.
	Version() int
	// Claims reports whether the file at path (slash-separated, relative to
	// the image root, no leading slash) should be read. It must be cheap: it
	// runs for every entry of every layer.
	Claims(path string, mode fs.FileMode, size int64) bool
	// Analyze reads f and records what it found in out. A malformed file is
	// reported as an error; the walk records it as a warning and goes on.
	Analyze(ctx context.Context, f *File, out *LayerResult) error
}

// LayerResult is what the analyzers found in one layer, independent of every
// other layer, so it can be cached by the layer's diff ID.
type LayerResult struct {
	DiffID   string    `json:"diff_id"`
	Packages []Package `json:"packages,omitempty"`
	// Owned are the OS packages' file lists, cut down to the files that
	// may declare a language package (OwnableFile), for AssignOwners.
	Owned []OwnedFiles `json:"owned,omitempty"`
	// Files are small files kept verbatim because later stages need their
	// content across layers (os-release, /etc/passwd, /etc/group ...), keyed
	// by path.
	Files map[string][]byte `json:"files,omitempty"`
	// Symlinks maps a symlink's path to its target, for the paths that
	// analyzers claimed (so etc/os-release -> ../usr/lib/os-release resolves).
	Symlinks map[string]string `json:"symlinks,omitempty"`
	// Facts about individual files, for checks.
	Facts []FileFact `json:"facts,omitempty"`
	// Whiteouts are the paths this layer deletes from the layers below.
	Whiteouts []string `json:"whiteouts,omitempty"`
	// OpaqueDirs are directories whose lower-layer content this layer hides.
	OpaqueDirs []string `json:"opaque_dirs,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	// Claimed lists the paths of this layer's entries that an analyzer
	// claimed, found something in or not, so merging knows which lower
	// files (package databases, facts) this layer replaced.
	Claimed []string `json:"claimed,omitempty"`
	// Unclaimed lists regular files no analyzer claimed whose name is that
	// of a fixed path (PathClaimer) or sits in a fixed directory: where a
	// symlink makes a fixed path resolve to one of them, it is read then.
	Unclaimed []string `json:"unclaimed,omitempty"`
	// NonDirs and Dirs hold, sorted, the FNV-64a hash of the path of every
	// non-directory entry (file, symlink, hard link, device, fifo) and of
	// every directory entry of the layer. A runtime unpacking the layer
	// removes whatever a lower layer had at a path this layer puts a
	// non-directory at (a directory with all under it), and a lower
	// non-directory where it puts a directory; merging needs every such
	// path, which as text would make a cached layer as large as its file
	// list. A hash collision could hide one lower path; at 64 bits it is
	// not a practical risk.
	NonDirs []uint64 `json:"non_dirs,omitempty"`
	Dirs    []uint64 `json:"dirs,omitempty"`
	// Entries and Bytes count the tar entries and uncompressed bytes walked.
	Entries int64 `json:"entries"`
	Bytes   int64 `json:"bytes"`
}

// FileFact records something notable about one file of a layer.
type FileFact struct {
	// Kind says what was seen: "setuid", "setgid", "unneeded", "secret", ...
	Kind string `json:"kind"`
	Path string `json:"path"`
	// Mode is the file's permission bits as octal text, when relevant.
	Mode string `json:"mode,omitempty"`
	// Rule is the detector's rule id (e.g. "aws-access-key-id").
	Rule string `json:"rule,omitempty"`
	// Line is 1-based, for facts found inside a text file.
	Line int `json:"line,omitempty"`
	// Detail is a human-readable description; never contains a secret in clear.
	Detail string    `json:"detail,omitempty"`
	Layer  *LayerRef `json:"layer,omitempty"`
}

// AddFile keeps a small file's content in the result.
func (r *LayerResult) AddFile(path string, content []byte) {
	if r.Files == nil {
		r.Files = map[string][]byte{}
	}
	r.Files[path] = content
}

// A PathClaimer is an Analyzer that claims files at fixed paths (package
// databases, os-release). The scan resolves those paths through the merged
// image's symlinks, as a container sees them (var/lib/rpm ->
// ../../usr/lib/sysimage/rpm), and hands the file found there to the
// analyzer under the fixed path. A path ending in "/" names the files
// directly in that directory.
type PathClaimer interface {
	FixedPaths() []string
}
