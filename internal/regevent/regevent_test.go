package regevent

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Parsers are the formats and their parsers; seeds are the
// documented payloads in testdata named after the format.
var Parsers = map[string]Parser{
	"distribution": Distribution,
	"harbor":       Harbor,
	"acr":          ACR,
}

func seedWebhooks(f *testing.F, format string) {
	files, _ := filepath.Glob(filepath.Join("testdata", format+"-*.json"))
	if len(files) == 0 {
		f.Fatalf("no seed payloads for %s", format)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"A/../b","digest":"sha256:00"}}]}`))
}

// checkParsed holds for every delivery: an error is a *Error with
// a 4xx status, and every event returned passed validation.
func checkParsed(t *testing.T, p Delivery, err error) {
	t.Helper()
	if err != nil {
		var we *Error
		if !errors.As(err, &we) || we.Status < 400 || we.Status > 499 || we.Msg == "" {
			t.Fatalf("error %v (%T) is not a client error", err, err)
		}
		return
	}
	if len(p.Events) > MaxEvents {
		t.Fatalf("%d events accepted", len(p.Events))
	}
	for _, ev := range p.Events {
		if msg := Validate(ev); msg != "" {
			t.Fatalf("invalid event accepted: %s", msg)
		}
		if ev.Action != "push" && ev.Action != "pull" && ev.Action != "delete" {
			t.Fatalf("action %q accepted", ev.Action)
		}
	}
}

func fuzzWebhook(f *testing.F, format string) {
	seedWebhooks(f, format)
	parse := Parsers[format]
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parse(bytes.NewReader(body), "application/json")
		checkParsed(t, p, err)
	})
}

func FuzzParseDistribution(f *testing.F) { fuzzWebhook(f, "distribution") }
func FuzzParseHarbor(f *testing.F)       { fuzzWebhook(f, "harbor") }
func FuzzParseACR(f *testing.F)          { fuzzWebhook(f, "acr") }

// TestDocumentedWebhooks parses each documented payload into the events it
// describes.
func TestDocumentedWebhooks(t *testing.T) {
	for _, c := range []struct {
		file    string
		events  []string // action repository digest-prefix tag
		ignored int
	}{
		{"distribution-pull.json", []string{"pull hello-world sha256:fea8895f "}, 0},
		{"distribution-push-blob.json", []string{"push library/test sha256:01234567 latest", "delete library/test sha256:01234567 "}, 1},
		{"harbor-push.json", []string{"push library/alpine sha256:954b378c latest"}, 0},
		{"harbor-scanning-completed.json", nil, 1},
		{"acr-push.json", []string{"push hello-world sha256:80f0d5c8 v1"}, 0},
		{"acr-delete.json", []string{"delete hello-world sha256:80f0d5c8 "}, 0},
		{"acr-chart-push.json", nil, 1},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		format, _, _ := strings.Cut(c.file, "-")
		p, err := Parsers[format](bytes.NewReader(b), "application/vnd.docker.distribution.events.v2+json")
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		var got []string
		for _, ev := range p.Events {
			got = append(got, ev.Action+" "+ev.Repository+" "+ev.Digest[:15]+" "+ev.Tag)
			if ev.Key == "" || ev.At.IsZero() {
				t.Errorf("%s: event without dedup key or time: %+v", c.file, ev)
			}
		}
		if strings.Join(got, "|") != strings.Join(c.events, "|") || p.Ignored != c.ignored {
			t.Errorf("%s: got %q (ignored %d), want %q (ignored %d)", c.file, got, p.Ignored, c.events, c.ignored)
		}
	}
	if _, err := Distribution(strings.NewReader(`{}`), "text/plain"); err == nil || err.(*Error).Status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain envelope: %v", err)
	}
}
