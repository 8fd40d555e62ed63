// Package regevent parses the webhooks registries send about images
// (CNCF Distribution notifications, Harbor, Azure Container Registry) into
// validated events: bounded, names checked against the distribution
// reference grammar, blobs and other actions ignored. It stores nothing;
// internal/server authenticates deliveries and records the events.
package regevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Event is one registry event about an image, without tenant or
// registry (the server adds them).
type Event struct {
	Repository string
	// Digest is the manifest digest; "" on a delete means the whole
	// repository was deleted.
	Digest string
	Tag    string
	Action string // "push", "pull" or "delete"
	At     time.Time
	// Key identifies the event for deduplication ("" = never a
	// duplicate).
	Key string
}

// MaxBody bounds a webhook delivery; Distribution batches a few
// events per envelope, far below this.
const MaxBody = 1 << 20

// MaxEvents bounds the events of one envelope.
const MaxEvents = 1000

// Names as the distribution reference grammar allows them.
var (
	DigestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	// RepositoryRE is the distribution reference grammar's path.
	RepositoryRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	TagRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// ManifestMediaTypes are the targets a scan is about; blob (layer, config)
// events are ignored.
var ManifestMediaTypes = map[string]bool{
	"application/vnd.docker.distribution.manifest.v2+json":      true,
	"application/vnd.docker.distribution.manifest.list.v2+json": true,
	"application/vnd.docker.distribution.manifest.v1+json":      true,
	"application/vnd.docker.distribution.manifest.v1+prettyjws": true,
	"application/vnd.oci.image.manifest.v1+json":                true,
	"application/vnd.oci.image.index.v1+json":                   true,
}

// Error is a delivery refused before anything is stored.
type Error struct {
	Status int // HTTP status to answer
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func bad(msg string) *Error { return &Error{400, msg} }

// Delivery is what a delivery asks for: events to record (without
// tenant and registry) and how many were ignored (blobs, other actions).
type Delivery struct {
	Events  []Event
	Ignored int
}

// A Parser reads one delivery's body (already bounded) of the given
// Content-Type; it returns a *Error for a bad delivery.
type Parser func(body io.Reader, contentType string) (Delivery, error)

// decodeJSON reads one JSON value; a body cut by MaxBytesReader keeps its
// *http.MaxBytesError.
func decodeJSON(body io.Reader, format string, v any) error {
	if err := json.NewDecoder(body).Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return bad("invalid " + format + " payload: " + err.Error())
	}
	return nil
}

// registryEvent is one event of the CNCF Distribution notification
// envelope (media types application/vnd.docker.distribution.events.v1+json
// and v2+json share it) and, with the same fields, an Azure Container
// Registry webhook (container-registry-webhook-reference).
type registryEvent struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Action    string    `json:"action"`
	Target    struct {
		MediaType  string `json:"mediaType"`
		Digest     string `json:"digest"`
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
	} `json:"target"`
}

func (e *registryEvent) imageEvent(keyPrefix string) Event {
	ev := Event{Repository: e.Target.Repository, Digest: e.Target.Digest, Tag: e.Target.Tag, Action: e.Action, At: e.Timestamp}
	if e.ID != "" {
		ev.Key = keyPrefix + e.ID
	}
	return ev
}

// parseDistribution reads a Distribution notification envelope.
func Distribution(body io.Reader, contentType string) (Delivery, error) {
	var p Delivery
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	switch ct {
	case "application/vnd.docker.distribution.events.v1+json", "application/vnd.docker.distribution.events.v2+json", "application/json", "":
	default:
		return p, &Error{415, "content type " + ct + ": want application/vnd.docker.distribution.events.v2+json (or v1)"}
	}
	var env struct {
		Events []registryEvent `json:"events"`
	}
	if err := decodeJSON(body, "notification envelope", &env); err != nil {
		return p, err
	}
	if len(env.Events) > MaxEvents {
		return p, &Error{413, "too many events in one delivery"}
	}
	for i := range env.Events {
		e := &env.Events[i]
		if !ManifestMediaTypes[e.Target.MediaType] || (e.Action != "push" && e.Action != "pull" && e.Action != "delete") {
			p.Ignored++
			continue
		}
		if err := p.add(e.imageEvent("distribution:")); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseACR reads an Azure Container Registry webhook: one event per
// delivery.
func ACR(body io.Reader, _ string) (Delivery, error) {
	var p Delivery
	var e registryEvent
	if err := decodeJSON(body, "acr", &e); err != nil {
		return p, err
	}
	// quarantine, chart_push, chart_delete, ping, and pushes of anything
	// but a manifest: nothing to scan.
	if (e.Action != "push" && e.Action != "delete") || (e.Action == "push" && e.Target.MediaType != "" && !ManifestMediaTypes[e.Target.MediaType]) {
		p.Ignored++
		return p, nil
	}
	return p, p.add(e.imageEvent("acr:"))
}

// harborEvent is a Harbor webhook (goharbor.io, configure-webhooks).
type harborEvent struct {
	Type      string `json:"type"`
	OccurAt   int64  `json:"occur_at"`
	EventData struct {
		Resources []struct {
			Digest string `json:"digest"`
			Tag    string `json:"tag"`
		} `json:"resources"`
		Repository struct {
			Name         string `json:"name"`
			Namespace    string `json:"namespace"`
			RepoFullName string `json:"repo_full_name"`
		} `json:"repository"`
	} `json:"event_data"`
}

var harborActions = map[string]string{"PUSH_ARTIFACT": "push", "PULL_ARTIFACT": "pull", "DELETE_ARTIFACT": "delete"}

// parseHarbor reads a Harbor webhook: one event about several artifacts
// of one repository.
func Harbor(body io.Reader, _ string) (Delivery, error) {
	var p Delivery
	var ev harborEvent
	if err := decodeJSON(body, "harbor", &ev); err != nil {
		return p, err
	}
	action := harborActions[ev.Type]
	if action == "" {
		p.Ignored++
		return p, nil
	}
	if len(ev.EventData.Resources) > MaxEvents {
		return p, &Error{413, "too many resources in one event"}
	}
	repo := ev.EventData.Repository.RepoFullName
	if repo == "" {
		repo = ev.EventData.Repository.Namespace + "/" + ev.EventData.Repository.Name
	}
	for _, res := range ev.EventData.Resources {
		err := p.add(Event{Repository: repo, Digest: res.Digest, Tag: res.Tag, Action: action, At: time.Unix(ev.OccurAt, 0),
			// Harbor events carry no id: the event's type, time and
			// artifact identify a redelivery.
			Key: fmt.Sprintf("harbor:%s:%d:%s:%s:%s", ev.Type, ev.OccurAt, repo, res.Digest, res.Tag)})
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

// add validates an event and appends it.
func (p *Delivery) add(ev Event) error {
	if msg := Validate(ev); msg != "" {
		return bad(msg)
	}
	p.Events = append(p.Events, ev)
	return nil
}

// Validate checks an event's names before anything is stored; it returns
// what is wrong, or "".
func Validate(ev Event) string {
	if !RepositoryRE.MatchString(ev.Repository) || len(ev.Repository) > 255 {
		return "invalid repository name " + Quote(ev.Repository)
	}
	if ev.Digest != "" && !DigestRE.MatchString(ev.Digest) {
		return "invalid digest " + Quote(ev.Digest) + ": want sha256:<64 hex>"
	}
	if ev.Digest == "" && ev.Action != "delete" {
		return "event without a digest"
	}
	if ev.Tag != "" && !TagRE.MatchString(ev.Tag) {
		return "invalid tag " + Quote(ev.Tag)
	}
	return ""
}

// Quote quotes a name for an error message, cut to 80 characters.
func Quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
