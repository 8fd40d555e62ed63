package harbor

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// RequestError is a ScanRequest the API refuses, with the status the spec
// gives it: 400 for JSON that does not parse or has the wrong types, 422
// for an invalid field, 501 for an artifact or report Vigil cannot make.
type RequestError struct {
	Status int
	Msg    string
}

func (e *RequestError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &RequestError{Status: 422, Msg: fmt.Sprintf(format, args...)}
}

// Limits of a ScanRequest's fields: generous for real values, small enough
// that a stored request stays small.
const (
	maxURL           = 2048
	maxAuthorization = 16 << 10
	maxRepository    = 255 * 2
	maxTag           = 128
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// DecodeScanRequest reads and validates a ScanRequest. Unknown fields are
// accepted (later spec versions add some); trailing data is not. The size
// is bounded by the caller (http.MaxBytesReader): its error is returned
// as is, for a 413.
func DecodeScanRequest(r io.Reader) (ScanRequest, error) {
	var req ScanRequest
	dec := json.NewDecoder(r)
	if err := dec.Decode(&req); err != nil {
		if isTooLarge(err) {
			return req, err
		}
		return req, &RequestError{Status: 400, Msg: "invalid ScanRequest JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		if isTooLarge(err) {
			return req, err
		}
		return req, &RequestError{Status: 400, Msg: "invalid ScanRequest JSON: trailing data after the object"}
	}
	return req, req.Validate()
}

// isTooLarge reports whether the body passed the caller's size limit.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// Validate checks the fields a scan needs.
func (r ScanRequest) Validate() error {
	if _, _, err := registryHost(r.Registry.URL); err != nil {
		return err
	}
	if _, err := Authenticator(r.Registry.Authorization); err != nil {
		return err
	}
	a := r.Artifact
	if a.Repository == "" {
		return invalid("artifact.repository is required")
	}
	if len(a.Repository) > maxRepository {
		return invalid("artifact.repository is too long")
	}
	if _, err := name.NewRepository(a.Repository); err != nil {
		return invalid("artifact.repository %q: %v", a.Repository, err)
	}
	if !digestRE.MatchString(a.Digest) {
		return invalid("artifact.digest %q: want sha256:<64 lowercase hex>", a.Digest)
	}
	if len(a.Tag) > maxTag {
		return invalid("artifact.tag is too long")
	}
	if a.MimeType != "" && a.MimeType != MimeOCIManifest && a.MimeType != MimeDockerManifest {
		return &RequestError{Status: 501, Msg: fmt.Sprintf("artifact.mime_type %q: Vigil scans %s and %s", a.MimeType, MimeOCIManifest, MimeDockerManifest)}
	}
	if _, _, err := r.Ref(); err != nil {
		return err
	}
	for i, c := range r.EnabledCapabilities {
		switch c.Type {
		case CapVulnerability:
			for _, m := range c.ProducesMimeTypes {
				if m != MimeVulnReport && m != MimeVulnReportHarbor && m != MimeVulnReportRaw {
					return &RequestError{Status: 501, Msg: fmt.Sprintf("enabled_capabilities[%d]: Vigil does not produce %q", i, m)}
				}
			}
		case CapSBOM:
			for _, m := range c.ProducesMimeTypes {
				if m != MimeSBOMReport {
					return &RequestError{Status: 501, Msg: fmt.Sprintf("enabled_capabilities[%d]: Vigil does not produce %q", i, m)}
				}
			}
			if c.Parameters != nil {
				for _, m := range c.Parameters.SbomMediaTypes {
					if m != SBOMCycloneDX && m != SBOMSPDX {
						return invalid("enabled_capabilities[%d].parameters.sbom_media_types: %q is neither %s nor %s", i, m, SBOMSPDX, SBOMCycloneDX)
					}
				}
			}
		default:
			return invalid("enabled_capabilities[%d].type %q: want vulnerability or sbom", i, c.Type)
		}
	}
	return nil
}

// Enabled reports whether the request asks for the capability type (all
// of them when it lists none, for Harbor before 2.11).
func (r ScanRequest) Enabled(capType string) bool {
	if len(r.EnabledCapabilities) == 0 {
		return true
	}
	return slices.ContainsFunc(r.EnabledCapabilities, func(c EnabledCapability) bool { return c.Type == capType })
}

// registryHost turns the registry URL into the host to pull from and
// whether it is plain HTTP.
func registryHost(raw string) (host string, insecure bool, err error) {
	if raw == "" {
		return "", false, invalid("registry.url is required")
	}
	if len(raw) > maxURL {
		return "", false, invalid("registry.url is too long")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, invalid("registry.url: %v", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false, invalid("registry.url %q: want http(s)://host[:port]", raw)
	}
	if p := strings.TrimSuffix(u.Path, "/"); p != "" {
		// The Registry v2 API lives at /v2/ of the host.
		return "", false, invalid("registry.url %q: want the registry's base URL, without a path", raw)
	}
	host = strings.ToLower(u.Host)
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		// A bare name such as harbor-core would read as the first part of
		// a Docker Hub repository: the default port makes it a registry.
		host += map[string]string{"http": ":80", "https": ":443"}[u.Scheme]
	}
	if _, err := name.NewRegistry(host); err != nil {
		return "", false, invalid("registry.url %q: %v", raw, err)
	}
	return host, u.Scheme == "http", nil
}

// Host is the registry's host[:port] as Vigil pulls from it.
func (r ScanRequest) Host() (string, error) {
	host, _, err := registryHost(r.Registry.URL)
	return host, err
}

// HostAllowed reports whether host may be pulled from under an allow-list
// of hosts (server.harbor_registries): empty allows any; an entry without
// a port allows every port of that host.
func HostAllowed(host string, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	bare := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		bare = h
	}
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == host || a == bare || "["+a+"]" == bare {
			return true
		}
	}
	return false
}

// Ref is the reference to pull: host/repository@digest, and whether the
// registry is plain HTTP. The request must be valid.
func (r ScanRequest) Ref() (ref string, insecure bool, err error) {
	host, insecure, err := registryHost(r.Registry.URL)
	if err != nil {
		return "", false, err
	}
	ref = host + "/" + r.Artifact.Repository + "@" + r.Artifact.Digest
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	// The reader parses the string again: it must name this registry.
	reg, rerr := name.NewRegistry(host, opts...)
	d, err := name.NewDigest(ref, opts...)
	if err != nil || rerr != nil || d.RegistryStr() != reg.RegistryStr() {
		return "", false, invalid("artifact %q in registry %q: not a valid reference", r.Artifact.Repository, host)
	}
	return ref, insecure, nil
}

// Authenticator turns the Authorization value Harbor hands over into
// go-containerregistry credentials: Basic robot credentials (exchanged for
// a registry token as the registry asks), a Bearer registry token, or none.
func Authenticator(authorization string) (authn.Authenticator, error) {
	if authorization == "" {
		return authn.Anonymous, nil
	}
	if len(authorization) > maxAuthorization {
		return nil, invalid("registry.authorization is too long")
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return nil, invalid(`registry.authorization: want "Basic <credentials>" or "Bearer <token>"`)
	}
	switch strings.ToLower(scheme) {
	case "basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, invalid("registry.authorization: Basic credentials are not base64")
		}
		user, pass, ok := strings.Cut(string(b), ":")
		if !ok {
			return nil, invalid("registry.authorization: Basic credentials are not user:password")
		}
		return &authn.Basic{Username: user, Password: pass}, nil
	case "bearer":
		return &authn.Bearer{Token: cred}, nil
	}
	return nil, invalid("registry.authorization: scheme %q: want Basic or Bearer", scheme)
}
