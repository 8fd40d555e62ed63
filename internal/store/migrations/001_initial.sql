-- Vigil's service schema, version 1. One text for SQLite and PostgreSQL:
-- {{id}} is the auto-increment primary key, {{blob}} binary data. Times
-- are Unix milliseconds (BIGINT) so comparisons and windows are the same
-- integer arithmetic on both databases.

CREATE TABLE tenants (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    policy TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    scope TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE registries (
    id TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    insecure INTEGER NOT NULL DEFAULT 0,
    username TEXT NOT NULL DEFAULT '',
    password_enc {{blob}},
    webhook_secret_hash TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    backfilled_at BIGINT,
    error TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, name)
);

-- registry_id is '' for repositories known only from CI/CD publishes.
CREATE TABLE repositories (
    id {{id}},
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    registry_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, registry_id, name)
);

-- One row per image digest in a repository. The severity columns are the
-- counts of open findings, kept with each evaluation so lists need no
-- aggregation over findings.
CREATE TABLE images (
    id {{id}},
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    registry_id TEXT NOT NULL,
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    digest TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    pushed_at BIGINT,
    pulled_at BIGINT,
    scanned_at BIGINT,
    last_evaluated_at BIGINT,
    db_built_at BIGINT,
    deleted_at BIGINT,
    replaced_by BIGINT,
    analyzer TEXT NOT NULL DEFAULT '',
    artifact TEXT NOT NULL DEFAULT '',
    critical INTEGER NOT NULL DEFAULT 0,
    high INTEGER NOT NULL DEFAULT 0,
    medium INTEGER NOT NULL DEFAULT 0,
    low INTEGER NOT NULL DEFAULT 0,
    unknown INTEGER NOT NULL DEFAULT 0,
    fixable INTEGER NOT NULL DEFAULT 0,
    UNIQUE (repository_id, digest)
);
CREATE INDEX images_tenant ON images (tenant_id, id);
CREATE INDEX images_digest ON images (tenant_id, digest);
CREATE INDEX images_registry ON images (registry_id, id);

-- A tag names one image of its repository; moving it records a replacement.
CREATE TABLE tags (
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    tag TEXT NOT NULL,
    image_id BIGINT NOT NULL REFERENCES images (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repository_id, tag)
);
CREATE INDEX tags_image ON tags (image_id);

-- Layer inventories, content-addressed by the verified diff ID and the
-- analyzer set that produced them: shared by every image (and tenant) that
-- has the layer, stored once.
CREATE TABLE layers (
    id {{id}},
    diff_id TEXT NOT NULL,
    analyzer TEXT NOT NULL,
    result {{blob}} NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (diff_id, analyzer)
);

CREATE TABLE image_layers (
    image_id BIGINT NOT NULL REFERENCES images (id),
    position INTEGER NOT NULL,
    layer_id BIGINT NOT NULL REFERENCES layers (id),
    PRIMARY KEY (image_id, position)
);
CREATE INDEX image_layers_layer ON image_layers (layer_id);

-- The re-evaluation index: (coarse ecosystem, package name) -> layers.
CREATE TABLE layer_packages (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    layer_id BIGINT NOT NULL REFERENCES layers (id),
    PRIMARY KEY (ecosystem, name, layer_id)
);

CREATE TABLE findings (
    id {{id}},
    image_id BIGINT NOT NULL REFERENCES images (id),
    finding_key TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    package TEXT NOT NULL,
    severity TEXT NOT NULL,
    fixable INTEGER NOT NULL,
    state TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    resolved_at BIGINT,
    db_built_at BIGINT,
    data TEXT NOT NULL,
    UNIQUE (image_id, finding_key)
);
CREATE INDEX findings_vuln ON findings (vuln_id, image_id);
CREATE INDEX findings_package ON findings (package, image_id);

CREATE TABLE evaluations (
    id {{id}},
    image_id BIGINT NOT NULL REFERENCES images (id),
    kind TEXT NOT NULL,
    db_built_at BIGINT,
    findings INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX evaluations_image ON evaluations (image_id, id);

CREATE TABLE ci_runs (
    id {{id}},
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    idempotency_key TEXT NOT NULL,
    digest TEXT NOT NULL,
    image_name TEXT NOT NULL,
    provider TEXT NOT NULL,
    workflow TEXT NOT NULL,
    run_id TEXT NOT NULL,
    run_url TEXT NOT NULL,
    repository TEXT NOT NULL,
    repository_url TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    ref TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX ci_runs_digest ON ci_runs (tenant_id, digest);

CREATE TABLE running_images (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    cluster TEXT NOT NULL,
    namespace TEXT NOT NULL,
    workload TEXT NOT NULL,
    container TEXT NOT NULL,
    image TEXT NOT NULL,
    digest TEXT NOT NULL,
    reported_at BIGINT NOT NULL
);
CREATE INDEX running_images_digest ON running_images (tenant_id, digest);
CREATE INDEX running_images_cluster ON running_images (tenant_id, cluster);

-- Registry events already accepted, so redeliveries and replays are no-ops.
CREATE TABLE webhook_events (
    registry_id TEXT NOT NULL,
    event_key TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (registry_id, event_key)
);

CREATE TABLE audit_log (
    id {{id}},
    tenant_id BIGINT NOT NULL,
    token_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

CREATE TABLE outbound_webhooks (
    id TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    url TEXT NOT NULL,
    secret_enc {{blob}},
    min_severity TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Vulnerability DB builds the server has used, newest last.
CREATE TABLE db_builds (
    built_at BIGINT PRIMARY KEY,
    digest TEXT NOT NULL,
    sources TEXT NOT NULL,
    installed_at BIGINT NOT NULL
);
