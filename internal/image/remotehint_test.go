package image

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/vigil-scan/vigil/internal/imagetest"
)

// TestRemoteErrorsSayWhatToDo: the registry errors a new user meets first
// (an image name that does not exist, a registry that cannot be reached)
// name the next step, and a bare reference's last failure is not also
// logged as a warning before the same error is returned.
func TestRemoteErrorsSayWhatToDo(t *testing.T) {
	host := imagetest.Registry(t)
	var logs bytes.Buffer
	opts := Options{Insecure: true, Sources: []string{"remote"}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	_, err := Open(t.Context(), host+"/no/such:1.0", opts)
	if err == nil || !strings.Contains(err.Error(), host+" has no image no/such:1.0: check the repository name and tag") {
		t.Errorf("missing image: %v", err)
	}
	_, err = Open(t.Context(), "127.0.0.1:1/app:1.0", opts)
	if err == nil || !strings.Contains(err.Error(), "registry 127.0.0.1:1 is unreachable") || !strings.Contains(err.Error(), "docker save") {
		t.Errorf("unreachable registry: %v", err)
	}
	if strings.Contains(logs.String(), "image source failed") {
		t.Errorf("the returned error was also logged: %s", logs.String())
	}
}
