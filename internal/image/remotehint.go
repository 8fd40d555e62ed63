package image

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// remoteHint adds the next step to the registry errors a new user meets
// first: no network (a CI runner without internet access), an image or tag
// that does not exist, and a private repository without credentials.
// go-containerregistry's own text stays in the message: it has the URL.
func remoteHint(err error, r name.Reference) error {
	host := r.Context().RegistryStr()
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) || errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w\n  registry %s is unreachable (offline? a typo in the host?): scan a saved image instead (docker save -o app.tar %s, then vigil image app.tar), or one in a local daemon (docker:%s, podman:, containerd:)", err, host, r, r)
	}
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return err
	}
	switch terr.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w\n  %s has no image %s: check the repository name and tag", err, host, r.Context().RepositoryStr()+refSuffix(r))
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w\n  %s refused the credentials (or none were found): docker login %s, or pass --username/--password; a private repository that does not exist answers the same", err, host, host)
	}
	return err
}

// refSuffix is ":tag" or "@digest" as the reference names it.
func refSuffix(r name.Reference) string {
	if d, ok := r.(name.Digest); ok {
		return "@" + d.DigestStr()
	}
	return ":" + r.Identifier()
}
