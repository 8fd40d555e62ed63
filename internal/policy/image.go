package policy

import (
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vigil-scan/vigil/internal/inventory"
)

// imageView is every name and digest the scanned image is known by, so
// rules written as "alpine:3.10", "docker.io/library/alpine:3.10" or
// "index.docker.io/library/alpine" all find it.
type imageView struct {
	// names are full references (with tag or digest) and bare repositories.
	names []string
	// repos are canonical repository names ("index.docker.io/library/alpine")
	// with the short forms users write ("alpine", "docker.io/library/alpine").
	repos []string
	// digests are "sha256:<hex>" manifest and config digests.
	digests []string
}

func newImageView(a inventory.Artifact) imageView {
	var v imageView
	add := func(list *[]string, s string) {
		if s != "" && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	for _, d := range []string{a.Digest, a.ImageID} {
		if strings.Contains(d, ":") {
			add(&v.digests, strings.ToLower(d))
		}
	}
	refs := append([]string{a.Name}, a.RepoTags...)
	refs = append(refs, a.RepoDigests...)
	for _, s := range refs {
		if s == "" {
			continue
		}
		add(&v.names, s)
		ref, err := name.ParseReference(s)
		if err != nil {
			continue
		}
		if d, ok := ref.(name.Digest); ok {
			add(&v.digests, strings.ToLower(d.DigestStr()))
		}
		short := s
		if at := strings.LastIndex(short, "@"); at >= 0 {
			short = short[:at]
		}
		if colon := strings.LastIndex(short, ":"); colon > strings.LastIndex(short, "/") {
			short = short[:colon]
		}
		for _, n := range []string{ref.Name(), ref.Context().Name(), short} {
			add(&v.names, n)
			if rest, ok := strings.CutPrefix(n, name.DefaultRegistry+"/"); ok {
				add(&v.names, "docker.io/"+rest)
				if lib, ok := strings.CutPrefix(rest, "library/"); ok {
					add(&v.names, lib)
				}
			}
		}
		repo := ref.Context().Name()
		add(&v.repos, repo)
		add(&v.repos, short)
		if rest, ok := strings.CutPrefix(repo, name.DefaultRegistry+"/"); ok {
			add(&v.repos, "docker.io/"+rest)
			if lib, ok := strings.CutPrefix(rest, "library/"); ok {
				add(&v.repos, lib)
			}
		}
	}
	return v
}

// matchName reports whether the glob matches any name of the image.
func (v imageView) matchName(g *glob) bool {
	return slices.ContainsFunc(v.names, g.match)
}

// hasDigest reports whether d ("sha256:<hex>", or a bare hex) is one of the
// image's digests.
func (v imageView) hasDigest(d string) bool {
	d = strings.ToLower(strings.TrimSpace(d))
	if d == "" {
		return false
	}
	for _, have := range v.digests {
		if have == d {
			return true
		}
		if _, hex, ok := strings.Cut(have, ":"); ok && hex == d {
			return true
		}
	}
	return false
}

// hasRepo reports whether repo names the image's repository, in any of the
// spellings newImageView records.
func (v imageView) hasRepo(repo string) bool {
	if repo == "" {
		return false
	}
	if slices.Contains(v.repos, repo) {
		return true
	}
	if r, err := name.NewRepository(repo); err == nil {
		return slices.Contains(v.repos, r.Name())
	}
	return false
}

// matchReference reports whether a plain image reference written in a VEX
// product ("registry.example.com/app:1.2", "alpine@sha256:...", "sha256:...")
// identifies the image. A reference without tag or digest matches any tag of
// the repository.
func (v imageView) matchReference(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	if strings.HasPrefix(s, "sha256:") || strings.HasPrefix(s, "sha512:") {
		return v.hasDigest(s)
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return false
	}
	switch r := ref.(type) {
	case name.Digest:
		return v.hasDigest(r.DigestStr())
	case name.Tag:
		// ParseReference adds "latest" to a bare repository; a product
		// naming only the repository means every tag.
		if !strings.HasSuffix(s, ":"+r.TagStr()) {
			return v.hasRepo(r.Context().Name())
		}
		return slices.Contains(v.names, r.Name())
	}
	return false
}

// hasRepoNamed reports whether the last path element of one of the image's
// repositories is n (a pkg:oci purl without repository_url).
func (v imageView) hasRepoNamed(n string) bool {
	for _, r := range v.repos {
		if r[strings.LastIndex(r, "/")+1:] == n {
			return true
		}
	}
	return false
}
