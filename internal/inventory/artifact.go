package inventory

import "time"

// OS describes the operating system of an image.
type OS struct {
	// Family is the os-release ID: alpine, debian, ubuntu, rhel, centos,
	// almalinux, rocky, fedora, amzn, sles, opensuse-leap, mariner, azurelinux,
	// wolfi, chainguard, photon, ...
	Family   string `json:"family"`
	Version  string `json:"version"`
	Codename string `json:"codename,omitempty"`
	Name     string `json:"name,omitempty"`
	// Distroless is true for images that carry a distro's package metadata
	// but no package manager or shell (Google distroless, Chainguard static,
	// CBL-Mariner distroless).
	Distroless bool `json:"distroless,omitempty"`
}

// Known reports whether an OS was detected.
func (o OS) Known() bool { return o.Family != "" }

// Layer is one filesystem layer of the image, in order from the base.
type Layer struct {
	Index     int    `json:"index"`
	DiffID    string `json:"diff_id"`
	Digest    string `json:"digest,omitempty"`
	MediaType string `json:"media_type,omitempty"`
	// Size is the compressed size as stored in the registry or archive.
	Size      int64  `json:"size"`
	CreatedBy string `json:"created_by,omitempty"`
	Comment   string `json:"comment,omitempty"`
	Base      bool   `json:"base"`
}

// Ref returns the attribution record for this layer.
func (l Layer) Ref() *LayerRef {
	return &LayerRef{Index: l.Index, DiffID: l.DiffID, Digest: l.Digest, CreatedBy: l.CreatedBy, Base: l.Base}
}

// HistoryEntry is one step of the image's build history (the Dockerfile
// instruction), including steps that produced no layer.
type HistoryEntry struct {
	Created    time.Time `json:"created,omitzero"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	EmptyLayer bool      `json:"empty_layer,omitempty"`
}

// ImageConfig is the part of the image configuration that reports and
// best-practice checks need. The copy in Artifact.Config has its secrets
// masked (secrets.RedactConfig); only Inventory.UnredactedConfig holds the
// clear text.
type ImageConfig struct {
	User         string            `json:"user,omitempty"`
	Env          []string          `json:"env,omitempty"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"working_dir,omitempty"`
	ExposedPorts []string          `json:"exposed_ports,omitempty"`
	Volumes      []string          `json:"volumes,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	// Healthcheck is the HEALTHCHECK test command; nil when none is set,
	// ["NONE"] when explicitly disabled.
	Healthcheck []string `json:"healthcheck,omitempty"`
	// OnBuild are the ONBUILD instructions run by images built FROM this one.
	OnBuild []string       `json:"onbuild,omitempty"`
	History []HistoryEntry `json:"history,omitempty"`
	Created time.Time      `json:"created,omitzero"`
}

// BaseImage is the base image named by OCI annotations, when present.
type BaseImage struct {
	Name   string `json:"name,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// Artifact describes the scanned image.
type Artifact struct {
	// Name is the reference as the user gave it (e.g. "alpine:3.20",
	// "docker-archive:alpine.tar").
	Name string `json:"name"`
	// Source is where the image was read from: registry, docker, podman,
	// containerd, docker-archive, oci-archive, oci-layout or dir (a bare
	// reference or path says which it resolved to).
	Source string `json:"source,omitempty"`
	// Digest is the manifest digest when known (registry, OCI layout).
	Digest string `json:"digest,omitempty"`
	// ImageID is the digest of the image config.
	ImageID     string   `json:"image_id,omitempty"`
	RepoTags    []string `json:"repo_tags,omitempty"`
	RepoDigests []string `json:"repo_digests,omitempty"`
	// Platform as os/arch[/variant].
	Platform string       `json:"platform,omitempty"`
	OS       OS           `json:"os"`
	Layers   []Layer      `json:"layers,omitempty"`
	Config   *ImageConfig `json:"config,omitempty"`
	Base     *BaseImage   `json:"base_image,omitempty"`
}

// Inventory is the complete result of reading an image: what Vigil's
// `sbom --format json` prints.
type Inventory struct {
	SchemaVersion string    `json:"schema_version"`
	Artifact      Artifact  `json:"artifact"`
	Packages      []Package `json:"packages"`
	// Files holds facts about individual files (setuid binaries, unneeded
	// files, secrets...) that best-practice checks use; empty unless such
	// analyzers ran.
	Files []FileFact `json:"files,omitempty"`
	// Warnings are problems that did not stop the scan (an unreadable
	// package database, a truncated layer tail in lenient mode, ...).
	Warnings []string `json:"warnings,omitempty"`
	// Contents are the small files analyzers kept (LayerResult.Files), as
	// the merged filesystem shows them: the top-most layer's copy, minus
	// deleted paths. Checks read etc/passwd, etc/group ... from here. Not
	// serialised.
	Contents map[string][]byte `json:"-"`
	// UnredactedConfig is the image config as the image has it, secrets
	// included, for the secret scanner and the best-practice checks to
	// judge; whatever they report from it they mask. Never serialised:
	// every output prints Artifact.Config, the masked copy. Nil for
	// inventories read back from JSON, whose config is already masked.
	UnredactedConfig *ImageConfig `json:"-"`
}
