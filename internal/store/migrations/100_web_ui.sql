-- The web UI's tables and indexes (internal/web, internal/store/ui_*.go).
-- Numbered 100 so the service's own migrations keep their sequence.

-- Open findings per tenant at the end of each day, for the 30-day trend:
-- recorded whenever the overview is computed, backfilled once from
-- first_seen_at / resolved_at.
CREATE TABLE ui_open_daily (
    tenant_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    open_findings BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

-- Exceptions created in the UI: each is also an ignore entry of the
-- tenant's policy (tenants.policy); this row keeps who, when, and when an
-- evaluation first applied it.
CREATE TABLE exceptions (
    id {{id}},
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    vuln_id TEXT NOT NULL,
    package TEXT NOT NULL,
    image TEXT NOT NULL,
    path TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    applied_at BIGINT
);
CREATE INDEX exceptions_tenant ON exceptions (tenant_id, id);

-- Remediation history, newest first, and the open-finding aggregates.
CREATE INDEX findings_resolved ON findings (resolved_at);
CREATE INDEX findings_state_image ON findings (state, image_id);
CREATE INDEX evaluations_created ON evaluations (created_at);
