package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vigil-scan/vigil/internal/store"
)

// decodeWebhook reads a bounded JSON webhook body.
func (s *Server) decodeWebhook(w http.ResponseWriter, r *http.Request, format string, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		s.metrics.webhook(format, "bad_request", 1)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, 413, "webhook body too large")
		} else {
			writeError(w, 400, "invalid "+format+" payload: "+err.Error())
		}
		return false
	}
	return true
}

// harborEvent is a Harbor webhook (goharbor.io, configure-webhooks).
type harborEvent struct {
	Type      string `json:"type"`
	OccurAt   int64  `json:"occur_at"`
	Operator  string `json:"operator"`
	EventData struct {
		Resources []struct {
			Digest      string `json:"digest"`
			Tag         string `json:"tag"`
			ResourceURL string `json:"resource_url"`
		} `json:"resources"`
		Repository struct {
			Name         string `json:"name"`
			Namespace    string `json:"namespace"`
			RepoFullName string `json:"repo_full_name"`
		} `json:"repository"`
	} `json:"event_data"`
}

func (s *Server) harborWebhook(w http.ResponseWriter, r *http.Request) {
	const format = "harbor"
	tenant, regID, ok := s.webhookAuth(w, r, format)
	if !ok {
		return
	}
	var ev harborEvent
	if !s.decodeWebhook(w, r, format, &ev) {
		return
	}
	action := map[string]string{"PUSH_ARTIFACT": store.ActionPush, "PULL_ARTIFACT": store.ActionPull, "DELETE_ARTIFACT": store.ActionDelete}[ev.Type]
	if action == "" {
		s.metrics.webhook(format, "ignored", 1)
		writeJSON(w, 202, map[string]int{"accepted": 0, "duplicates": 0, "scans": 0})
		return
	}
	if len(ev.EventData.Resources) > maxEventsPerDelivery {
		writeError(w, 413, "too many resources in one event")
		return
	}
	repo := ev.EventData.Repository.RepoFullName
	if repo == "" {
		repo = ev.EventData.Repository.Namespace + "/" + ev.EventData.Repository.Name
	}
	var evs []store.ImageEvent
	for _, res := range ev.EventData.Resources {
		e := store.ImageEvent{TenantID: tenant, RegistryID: regID, Repository: repo, Digest: res.Digest, Tag: res.Tag, Action: action,
			At: time.Unix(ev.OccurAt, 0),
			// Harbor events carry no id: the event's type, time and
			// artifact identify a redelivery.
			Key: fmt.Sprintf("harbor:%s:%d:%s:%s:%s", ev.Type, ev.OccurAt, repo, res.Digest, res.Tag)}
		if msg := validateEvent(e); msg != "" {
			s.metrics.webhook(format, "bad_request", 1)
			writeError(w, 400, msg)
			return
		}
		evs = append(evs, e)
	}
	s.ingest(w, r, format, evs)
}

// acrEvent is an Azure Container Registry webhook
// (container-registry-webhook-reference): one event per delivery.
type acrEvent struct {
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

func (s *Server) acrWebhook(w http.ResponseWriter, r *http.Request) {
	const format = "acr"
	tenant, regID, ok := s.webhookAuth(w, r, format)
	if !ok {
		return
	}
	var ev acrEvent
	if !s.decodeWebhook(w, r, format, &ev) {
		return
	}
	if ev.Action != "push" && ev.Action != "delete" {
		// quarantine, chart_push, chart_delete, ping: nothing to scan.
		s.metrics.webhook(format, "ignored", 1)
		writeJSON(w, 202, map[string]int{"accepted": 0, "duplicates": 0, "scans": 0})
		return
	}
	if ev.Action == "push" && ev.Target.MediaType != "" && !manifestMediaTypes[ev.Target.MediaType] {
		s.metrics.webhook(format, "ignored", 1)
		writeJSON(w, 202, map[string]int{"accepted": 0, "duplicates": 0, "scans": 0})
		return
	}
	e := store.ImageEvent{TenantID: tenant, RegistryID: regID, Repository: ev.Target.Repository, Digest: ev.Target.Digest,
		Tag: ev.Target.Tag, Action: ev.Action, At: ev.Timestamp}
	if ev.ID != "" {
		e.Key = "acr:" + ev.ID
	}
	if msg := validateEvent(e); msg != "" {
		s.metrics.webhook(format, "bad_request", 1)
		writeError(w, 400, msg)
		return
	}
	s.ingest(w, r, format, []store.ImageEvent{e})
}
