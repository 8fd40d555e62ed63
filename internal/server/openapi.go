package server

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/vigil-scan/vigil/internal/store"
)

// routeDoc describes one route for the OpenAPI document. Every registered
// route must have one (TestOpenAPICoversEveryRoute).
type routeDoc struct {
	summary string
	scope   store.Scope // "" = no token
	query   []string
	body    bool
}

var routeDocs = map[string]routeDoc{
	"GET /healthz":                                  {summary: "Liveness"},
	"GET /readyz":                                   {summary: "Readiness: database reachable and a vulnerability DB loaded (503 otherwise)"},
	"GET /metrics":                                  {summary: "Prometheus metrics"},
	"GET /api/openapi.json":                         {summary: "This OpenAPI document"},
	"POST /api/v1/registries":                       {summary: "Connect a registry (name, url, insecure, username, password, webhook_secret); starts a backfill", scope: store.ScopeAdmin, body: true},
	"GET /api/v1/registries":                        {summary: "Registries with image and severity counts", scope: store.ScopeRead},
	"GET /api/v1/registries/{id}":                   {summary: "One registry", scope: store.ScopeRead},
	"DELETE /api/v1/registries/{id}":                {summary: "Remove a registry; its images leave every list", scope: store.ScopeAdmin},
	"POST /api/v1/registries/{id}/backfill":         {summary: "List the registry's catalog and tags again", scope: store.ScopeAdmin},
	"GET /api/v1/repositories":                      {summary: "Repositories with counts", scope: store.ScopeRead, query: []string{"registry_id", "limit", "page_token"}},
	"GET /api/v1/images":                            {summary: "Images with counts, tags, CI runs", scope: store.ScopeRead, query: []string{"repository", "registry_id", "severity", "fixable", "running", "cve", "package", "limit", "page_token"}},
	"GET /api/v1/images/{digest}":                   {summary: "One image", scope: store.ScopeRead},
	"GET /api/v1/images/{digest}/findings":          {summary: "The image's findings with state, first_seen_at, resolved_at", scope: store.ScopeRead, query: []string{"state", "severity", "fixable", "cve", "package", "limit", "page_token"}},
	"GET /api/v1/findings":                          {summary: "Findings across the tenant", scope: store.ScopeRead, query: []string{"state", "severity", "fixable", "running", "cve", "package", "limit", "page_token"}},
	"GET /api/v1/findings/export":                   {summary: "Export findings as JSON or CSV", scope: store.ScopeRead, query: []string{"format", "state", "severity", "fixable", "running", "cve", "package"}},
	"GET /api/v1/summary":                           {summary: "Tenant-wide counts", scope: store.ScopeRead},
	"GET /api/v1/recommendations":                   {summary: "Recommendations and their unhealthy registries", scope: store.ScopeRead},
	"GET /api/v1/jobs/failed":                       {summary: "The tenant's failed job attempts", scope: store.ScopeAdmin},
	"GET /api/v1/audit":                             {summary: "Audit log of admin actions", scope: store.ScopeAdmin, query: []string{"limit"}},
	"POST /api/v1/clusters/{name}/running":          {summary: "Replace a cluster's report of running images", scope: store.ScopeIngest, body: true},
	"POST /api/v1/notifications":                    {summary: "Outbound webhook for new critical/high findings (url, secret, min_severity); HMAC-SHA256 signed", scope: store.ScopeAdmin, body: true},
	"GET /api/v1/notifications":                     {summary: "The tenant's outbound webhooks", scope: store.ScopeAdmin},
	"GET /api/v1/gate":                              {summary: "Deployment gate: is REF@DIGEST allowed under the tenant's policy", scope: store.ScopeRead, query: []string{"image", "threshold"}},
	"PUT /api/v1/policy":                            {summary: "Store the tenant's policy (.vigil.yaml rules)", scope: store.ScopeAdmin, body: true},
	"GET /api/v1/policy":                            {summary: "The tenant's policy", scope: store.ScopeRead},
	"POST /api/v1/scans":                            {summary: "Publish a CI scan (docs/publish.md), idempotent on Idempotency-Key", scope: store.ScopeIngest, body: true},
	"POST /api/v1/ingest/azure/v2/track":            {summary: "Application Insights track endpoint for Azure/publish-security-assessments' MS.CloudSecurity.CI.ScanResult events (docs/publish.md); the envelope's iKey is a Vigil ingest token", body: true},
	"POST /api/v1/ingest/azure/v2.1/track":          {summary: "The same, at the path newer Application Insights SDKs post to", body: true},
	"POST /api/v1/webhooks/distribution/{registry}": {summary: "CNCF Distribution notifications (bearer webhook secret)", body: true},
	"POST /api/v1/webhooks/harbor/{registry}":       {summary: "Harbor webhooks PUSH_ARTIFACT, PULL_ARTIFACT, DELETE_ARTIFACT (bearer webhook secret)", body: true},
	"POST /api/v1/webhooks/acr/{registry}":          {summary: "Azure Container Registry webhooks push, delete (bearer webhook secret)", body: true},
	"GET /api/v1/db":                                {summary: "The vulnerability DB: build time, digest, sources", scope: store.ScopeRead},
	"POST /api/v1/db/refresh":                       {summary: "Queue a feed refresh", scope: store.ScopeAdmin},
	"GET /api/v1/db/metadata":                       {summary: "DB metadata for `vigil db update --from`"},
	"GET /api/v1/db/vigil.db":                       {summary: "The DB file (ETag = digest)"},
	"GET /harbor/api/v1/metadata":                   {summary: "Harbor Pluggable Scanner API v1.2: scanner metadata and capabilities", scope: store.ScopeIngest},
	"POST /harbor/api/v1/scan":                      {summary: "Harbor Pluggable Scanner API v1.2: accept a ScanRequest (202 {id}); the scan runs as a job", scope: store.ScopeIngest, body: true},
	"GET /harbor/api/v1/scan/{id}/report":           {summary: "Harbor Pluggable Scanner API v1.2: the report (Accept picks the type; 302 + Refresh-After while scanning)", scope: store.ScopeIngest, query: []string{"sbom_media_type"}},
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPI builds the OpenAPI 3 document from the registered routes.
func (s *Server) openAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, route := range s.routes {
		method, path, _ := strings.Cut(route, " ")
		doc := routeDocs[route]
		op := map[string]any{"summary": doc.summary, "responses": map[string]any{
			"200": map[string]any{"description": "OK"}, "400": map[string]any{"description": "bad request"},
			"401": map[string]any{"description": "no or invalid token"}, "403": map[string]any{"description": "scope too weak"},
			"404": map[string]any{"description": "not found (also another tenant's object)"}}}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		for _, q := range doc.query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if doc.scope != "" {
			op["security"] = []any{map[string]any{"bearer": []string{}}}
			op["x-vigil-scope"] = string(doc.scope)
		}
		if doc.body {
			op["requestBody"] = map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]string{"type": "object"}}}}
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "Vigil service API", "version": "1"},
		"paths":   paths,
		"components": map[string]any{"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, s.openAPI())
}
