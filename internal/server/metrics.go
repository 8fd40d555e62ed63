package server

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// metrics are the Prometheus counters the server keeps itself; gauges
// (queue depth, images by status, DB age) are read when scraped. The text
// exposition format is simple enough that a client library would add a
// dependency for little.
type metrics struct {
	mu       sync.Mutex
	requests map[string]int64   // route + status
	duration map[string]float64 // route -> seconds total
	webhooks map[string]int64   // format + outcome
}

func newMetrics() *metrics {
	return &metrics{requests: map[string]int64{}, duration: map[string]float64{}, webhooks: map[string]int64{}}
}

func (m *metrics) request(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.mu.Lock()
	m.requests[fmt.Sprintf("route=%q,status=\"%d\"", route, status)]++
	m.duration[fmt.Sprintf("route=%q", route)] += d.Seconds()
	m.mu.Unlock()
}

func (m *metrics) webhook(format, outcome string, n int) {
	m.mu.Lock()
	m.webhooks[fmt.Sprintf("format=%q,outcome=%q", format, outcome)] += int64(n)
	m.mu.Unlock()
}

func writeFamily[V int64 | float64](b *strings.Builder, name, typ, help string, vals map[string]V) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" {
			fmt.Fprintf(b, "%s %v\n", name, vals[k])
		} else {
			fmt.Fprintf(b, "%s{%s} %v\n", name, k, vals[k])
		}
	}
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	func() {
		// Every request takes this lock (ServeHTTP): released however
		// this ends.
		s.metrics.mu.Lock()
		defer s.metrics.mu.Unlock()
		writeFamily(&b, "vigil_http_requests_total", "counter", "HTTP requests by route and status.", s.metrics.requests)
		writeFamily(&b, "vigil_http_request_seconds_total", "counter", "Time spent serving HTTP requests by route.", s.metrics.duration)
		writeFamily(&b, "vigil_webhook_events_total", "counter", "Registry webhook events by format and outcome.", s.metrics.webhooks)
	}()
	if s.q != nil {
		if st, err := s.q.Stats(r.Context()); err == nil {
			writeFamily(&b, "vigil_jobs", "gauge", "Jobs in the queue by state.", map[string]int64{
				`state="available"`: int64(st.Available), `state="running"`: int64(st.Running),
				`state="retryable"`: int64(st.Retryable), `state="scheduled"`: int64(st.Scheduled)})
		}
		js := s.q.JobMetrics()
		writeFamily(&b, "vigil_job_seconds_total", "counter", "Time spent working jobs by kind.", js.Seconds)
		writeFamily(&b, "vigil_jobs_finished_total", "counter", "Jobs worked by kind and outcome.", js.Count)
	}
	if counts, err := s.st.ImagesByStatus(r.Context()); err == nil {
		vals := map[string]int64{}
		for k, v := range counts {
			vals[fmt.Sprintf("status=%q", k)] = int64(v)
		}
		writeFamily(&b, "vigil_images", "gauge", "Stored images by scan status.", vals)
	}
	if s.opts.DB != nil {
		in := s.opts.DB.Info()
		if !in.Built.IsZero() {
			writeFamily(&b, "vigil_db_age_seconds", "gauge", "Age of the vulnerability DB.", map[string]float64{"": time.Since(in.Built).Seconds()})
		}
		if in.LastRefreshAt != nil {
			failed := int64(0)
			if in.LastRefreshError != "" {
				failed = 1
			}
			writeFamily(&b, "vigil_db_last_refresh_failed", "gauge", "1 when this process's last feed refresh failed (the previous data keeps serving).", map[string]int64{"": failed})
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Write([]byte(b.String()))
}
