package checks

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// Kinds of inventory.FileFact the analyzer records.
const (
	FactSetuid     = "setuid"
	FactSetgid     = "setgid"
	FactUnneeded   = "unneeded"
	FactCredential = "credential"
)

// analyzer collects, per layer, what the file rules need: setuid/setgid
// files, unneeded and credential files, and the account files.
type analyzer struct{}

// Analyzer returns the layer analyzer that records what the rules need
// from layer files: setuid/setgid facts (mode only, content never read),
// "unneeded" facts for editor/VCS/cache directories and stray files,
// "credential" facts for suspicious file names and tool configs that store
// a credential (the credential itself is never kept), and the content of
// etc/passwd, etc/shadow and etc/group.
//
// Every executable regular file is claimed as well, though nothing is
// recorded for most: claiming makes a later layer's copy of a path replace
// the lower layer's fact when the image is merged, so `chmod a-s` in a
// later layer (the remedy for CIS-DI-0008) clears the finding.
func Analyzer() inventory.Analyzer { return analyzer{} }

func (analyzer) Name() string { return "checks" }
func (analyzer) Version() int { return 1 }

// Directories that do not belong in an image (Dockle's list); a file in
// one marks the directory. Only .git's HEAD and config are claimed, so a
// repository's objects are not offered to Analyze.
var unneededDirs = map[string]bool{".git": true, ".cache": true, ".aws": true, ".azure": true,
	".gcp": true, ".vscode": true, ".idea": true, ".npm": true, ".svn": true}

// Files that do not belong in an image.
var unneededFiles = map[string]bool{".DS_Store": true, "Dockerfile": true, "docker-compose.yml": true,
	"docker-compose.yaml": true, ".vimrc": true, "Thumbs.db": true}

// File names that suggest a stored credential (Dockle's CIS-DI-0010 list).
var credentialNames = map[string]bool{"credentials.json": true, "credential.json": true, "credentials": true,
	"credential": true, "password.txt": true, "id_rsa": true, "id_dsa": true, "id_ecdsa": true,
	"id_ed25519": true, "secret_token.rb": true, "carrierwave.rb": true, "omniauth.rb": true,
	"settings.py": true, "database.yml": true, "credentials.xml": true, ".env": true}

// File extensions that suggest a stored credential.
var credentialExts = map[string]bool{".secret": true, ".ovpn": true, ".private_key": true, ".cscfg": true,
	".rdp": true, ".mdf": true, ".sdf": true, ".bek": true, ".tpm": true, ".fve": true, ".jks": true,
	".psafe3": true, ".agilekeychain": true, ".keychain": true, ".pcap": true, ".gnucash": true}

// dependencyDirs hold third-party packages the image author does not
// control; name-based file rules skip them (as Dockle does).
var dependencyDirs = []string{"node_modules/", "vendor/", "site-packages/", "dist-packages/", "pkg/mod/", "gems/"}

func (analyzer) Claims(p string, mode fs.FileMode, size int64) bool {
	if p == passwdPath || p == shadowPath || p == groupPath {
		return true
	}
	if !mode.IsRegular() {
		return false
	}
	if mode&(fs.ModeSetuid|fs.ModeSetgid|0o111) != 0 {
		return true
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	if _, ok := credentialConfig(p, base); ok {
		return size <= maxConfigFileBytes
	}
	if unneededFiles[base] || credentialNames[base] || credentialExts[ext(base)] {
		return !inDependencyDir(p)
	}
	if dir, ok := unneededDir(p); ok {
		return !strings.HasSuffix(dir, ".git") || base == "HEAD"
	}
	return false
}

func (analyzer) Analyze(ctx context.Context, f *inventory.File, out *inventory.LayerResult) error {
	p := f.Path
	if p == passwdPath || p == shadowPath || p == groupPath {
		return keepAccountFile(f, out)
	}
	if f.Mode&fs.ModeSetuid != 0 {
		out.Facts = append(out.Facts, inventory.FileFact{Kind: FactSetuid, Path: p, Mode: octalMode(f.Mode)})
	}
	if f.Mode&fs.ModeSetgid != 0 {
		out.Facts = append(out.Facts, inventory.FileFact{Kind: FactSetgid, Path: p, Mode: octalMode(f.Mode)})
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	if d, ok := credentialConfig(p, base); ok {
		if err := checkConfigFile(f, d, out); err != nil {
			return err
		}
	}
	if inDependencyDir(p) {
		return nil
	}
	switch {
	case credentialNames[base]:
		out.Facts = append(out.Facts, inventory.FileFact{Kind: FactCredential, Path: p, Detail: "suspicious file name"})
	case credentialExts[ext(base)]:
		out.Facts = append(out.Facts, inventory.FileFact{Kind: FactCredential, Path: p, Detail: "suspicious file extension " + ext(base)})
	}
	if unneededFiles[base] {
		out.Facts = append(out.Facts, inventory.FileFact{Kind: FactUnneeded, Path: p, Detail: "unneeded file"})
	}
	if dir, ok := unneededDir(p); ok && !hasFact(out, FactUnneeded, dir) {
		out.Facts = append(out.Facts, inventory.FileFact{Kind: FactUnneeded, Path: dir, Detail: "unneeded directory"})
	}
	return nil
}

func keepAccountFile(f *inventory.File, out *inventory.LayerResult) error {
	b, err := f.Bytes(maxAccountFileBytes)
	if err != nil {
		return err
	}
	out.AddFile(f.Path, b)
	// Keep the file even when some lines are malformed; report the first.
	if _, errs := parseAccounts(f.Path, b); len(errs) > 0 {
		if len(errs) > 1 {
			return fmt.Errorf("%w (and %d more malformed lines)", errs[0], len(errs)-1)
		}
		return errs[0]
	}
	return nil
}

func checkConfigFile(f *inventory.File, d configDetector, out *inventory.LayerResult) error {
	b, err := f.Bytes(maxConfigFileBytes)
	if err != nil {
		return err
	}
	found, err := d.detect(b)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return nil
	}
	detail := d.what + " stores a credential: " + strings.Join(found, ", ")
	out.Facts = append(out.Facts, inventory.FileFact{Kind: FactCredential, Path: f.Path, Detail: detail})
	// A build-time config left in the image is unneeded too, unless its
	// directory (.git) is reported as a whole.
	if _, inDir := unneededDir(f.Path); !inDir {
		out.Facts = append(out.Facts, inventory.FileFact{Kind: FactUnneeded, Path: f.Path, Detail: d.what + " with a stored credential"})
	}
	return nil
}

// unneededDir returns the path of the unneeded directory p is inside.
func unneededDir(p string) (string, bool) {
	start := 0
	for start < len(p) {
		end := strings.IndexByte(p[start:], '/')
		if end < 0 {
			return "", false // the last component is the file itself
		}
		if unneededDirs[p[start:start+end]] {
			if inDependencyDir(p) {
				return "", false
			}
			return p[:start+end], true
		}
		start += end + 1
	}
	return "", false
}

func inDependencyDir(p string) bool {
	for _, d := range dependencyDirs {
		if strings.HasPrefix(p, d) || strings.Contains(p, "/"+d) {
			return true
		}
	}
	return false
}

func hasFact(out *inventory.LayerResult, kind, p string) bool {
	for i := len(out.Facts) - 1; i >= 0; i-- {
		if out.Facts[i].Kind == kind && out.Facts[i].Path == p {
			return true
		}
	}
	return false
}

func ext(base string) string {
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		return base[i:]
	}
	return ""
}

// octalMode renders permission bits with setuid/setgid/sticky as "4755".
func octalMode(m fs.FileMode) string {
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return fmt.Sprintf("%04o", bits)
}
