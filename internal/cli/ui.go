package cli

import (
	"net/http"

	"github.com/vigil-scan/vigil/internal/server"
	"github.com/vigil-scan/vigil/internal/web"
)

// The web UI (internal/web) is compiled in: `vigil serve` mounts it at "/"
// over the service's store, queue and vulnerability DB.
func init() {
	uiHandler = func(d server.UIDeps) http.Handler {
		h, err := web.New(web.NewStoreBackend(d.Store, d.Queue, d.DB, d.Logger), web.Options{Logger: d.Logger, Version: Version})
		if err != nil {
			// Only an embedded template that does not parse gets here, which
			// the package's tests catch; serve the API anyway.
			d.Logger.Error("web UI disabled", "err", err)
			return http.NotFoundHandler()
		}
		return h
	}
}
