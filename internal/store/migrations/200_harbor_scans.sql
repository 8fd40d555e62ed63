-- Scan requests from Harbor's Pluggable Scanner API (internal/server
-- harbor.go, internal/jobs harbor.go). Numbered 200 so the service's and
-- the UI's migrations keep their sequences. id is the scan request id
-- Harbor polls with; the registry authorization Harbor handed over is kept
-- encrypted (keyring, bound to id) only until the scan ends. report is the
-- Vigil JSON report (the Harbor and SBOM reports are rendered from it).
-- Rows older than a week are deleted when new requests come in.
CREATE TABLE harbor_scans (
    id TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    registry_url TEXT NOT NULL,
    authorization_enc {{blob}},
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    tag TEXT NOT NULL DEFAULT '',
    mime_type TEXT NOT NULL DEFAULT '',
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    report TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX harbor_scans_created ON harbor_scans (created_at);
