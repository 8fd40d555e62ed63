package image

import (
	"regexp"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vigil-scan/vigil/internal/inventory"
	"github.com/vigil-scan/vigil/internal/secrets"
)

// OCI annotations (also used as config labels) naming the base image.
const (
	annotationBaseName   = "org.opencontainers.image.base.name"
	annotationBaseDigest = "org.opencontainers.image.base.digest"
)

// describe fills the artifact's config, platform, base image and layer list
// (with history and base attribution) from the image config.
func describe(src *Source, cfg *v1.ConfigFile, annotations map[string]string) {
	a := &src.Artifact
	// The config's secrets are masked at the end, before any output, cache
	// or store sees the artifact; only the inventory's UnredactedConfig
	// keeps the clear text, for the scanners that judge it.
	defer func() { src.unredactedConfig = secrets.RedactArtifact(a) }()
	a.Config = imageConfig(cfg)
	if cfg.OS != "" || cfg.Architecture != "" {
		a.Platform = cfg.OS + "/" + cfg.Architecture
		if cfg.Variant != "" {
			a.Platform += "/" + cfg.Variant
		}
	}
	a.Base = baseImage(annotations, cfg.Config.Labels)

	history := cfg.History
	var layerHistory []v1.History
	for _, h := range history {
		if !h.EmptyLayer {
			layerHistory = append(layerHistory, h)
		}
	}
	boundary := baseBoundary(history)
	baseLayers := 0
	for i := 0; i < boundary && i < len(history); i++ {
		if !history[i].EmptyLayer {
			baseLayers++
		}
	}
	for i := range src.layers {
		l := &src.layers[i].Layer
		// History that does not line up with the layers (hand-built images)
		// leaves the remaining layers without created_by.
		if i < len(layerHistory) && len(layerHistory) == len(src.layers) {
			l.CreatedBy = layerHistory[i].CreatedBy
			l.Comment = layerHistory[i].Comment
		}
		l.Base = i < baseLayers && len(layerHistory) == len(src.layers)
		a.Layers = append(a.Layers, *l)
	}
}

// baseBoundary returns the index of the history entry that ends the base
// image: layers from history entries before it belong to the base.
//
// The rule (as Trivy's GuessBaseImageIndex): skip the image's own trailing
// empty-layer steps (its CMD, ENTRYPOINT, LABEL ...) and its last layer;
// walking back from there, the first CMD or ENTRYPOINT step that made no
// layer is the base image's final instruction, since a Dockerfile's own
// CMD/ENTRYPOINT normally comes last. This also finds multi-level bases
// (python on debian). Without such a step, the last root-filesystem ADD
// ("ADD file:<sha> in /", debuerreotype's "# debian.sh") followed by more
// layers ends the base. Returns 0 when no base is recognised.
func baseBoundary(history []v1.History) int {
	seenLayer := false
	for i := len(history) - 1; i >= 0; i-- {
		h := history[i]
		if !seenLayer {
			seenLayer = !h.EmptyLayer
			continue
		}
		if h.EmptyLayer && isCmdOrEntrypoint(h.CreatedBy) {
			return i
		}
	}
	lastLayer := -1
	for i := len(history) - 1; i >= 0; i-- {
		if !history[i].EmptyLayer {
			if lastLayer < 0 {
				lastLayer = i
				continue
			}
			if rootfsStep.MatchString(history[i].CreatedBy) {
				return i + 1
			}
		}
	}
	return 0
}

var rootfsStep = regexp.MustCompile(`^(/bin/sh -c #\(nop\) )?\s*ADD file:[0-9a-f]+ in / ?(# buildkit)?\s*$|^# debian\.sh `)

func isCmdOrEntrypoint(createdBy string) bool {
	s := strings.TrimSpace(strings.TrimPrefix(createdBy, "/bin/sh -c #(nop)"))
	return strings.HasPrefix(s, "CMD") || strings.HasPrefix(s, "ENTRYPOINT")
}

func baseImage(annotations, labels map[string]string) *inventory.BaseImage {
	b := inventory.BaseImage{Name: annotations[annotationBaseName], Digest: annotations[annotationBaseDigest]}
	if b.Name == "" {
		b.Name = labels[annotationBaseName]
	}
	if b.Digest == "" {
		b.Digest = labels[annotationBaseDigest]
	}
	if b == (inventory.BaseImage{}) {
		return nil
	}
	return &b
}

func imageConfig(cfg *v1.ConfigFile) *inventory.ImageConfig {
	c := cfg.Config
	out := &inventory.ImageConfig{
		User: c.User, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
		Labels: c.Labels, OnBuild: c.OnBuild, Created: cfg.Created.Time,
	}
	for p := range c.ExposedPorts {
		out.ExposedPorts = append(out.ExposedPorts, p)
	}
	sort.Strings(out.ExposedPorts)
	for v := range c.Volumes {
		out.Volumes = append(out.Volumes, v)
	}
	sort.Strings(out.Volumes)
	if c.Healthcheck != nil {
		out.Healthcheck = c.Healthcheck.Test
	}
	for _, h := range cfg.History {
		out.History = append(out.History, inventory.HistoryEntry{
			Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer,
		})
	}
	return out
}
