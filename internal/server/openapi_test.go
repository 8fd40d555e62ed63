package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// Every registered route is documented, and the served document lists it.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := New(Options{})
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	var doc struct {
		OpenAPI string                            `json:"openapi"`
		Paths   map[string]map[string]interface{} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %v %s", err, rec.Body)
	}
	for _, route := range s.Routes() {
		if _, ok := routeDocs[route]; !ok {
			t.Errorf("route %s has no routeDocs entry", route)
		}
		method, path, _ := strings.Cut(route, " ")
		if doc.Paths[path][strings.ToLower(method)] == nil {
			t.Errorf("route %s missing from /api/openapi.json", route)
		}
	}
	if len(routeDocs) != len(s.Routes()) {
		t.Errorf("%d documented routes, %d registered", len(routeDocs), len(s.Routes()))
	}
}
