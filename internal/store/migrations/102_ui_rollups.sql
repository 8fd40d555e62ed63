-- The overview's findings-wide numbers, kept up to date when findings are
-- written (ui_rollup.go) instead of aggregated over every open finding on
-- demand.

-- What each image contributes to its tenant's overview: its open findings
-- (0 once deleted), fixable and KEV counts by severity, and its open
-- vulnerability ids ("rank id" lines, sorted) so a later change or a
-- deletion can be applied as a difference.
CREATE TABLE ui_image_rollup (
    image_id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    live INTEGER NOT NULL,
    open_findings BIGINT NOT NULL,
    fixable_critical BIGINT NOT NULL,
    fixable_high BIGINT NOT NULL,
    fixable_medium BIGINT NOT NULL,
    fixable_low BIGINT NOT NULL,
    fixable_unknown BIGINT NOT NULL,
    kev_critical BIGINT NOT NULL,
    kev_high BIGINT NOT NULL,
    kev_medium BIGINT NOT NULL,
    kev_low BIGINT NOT NULL,
    kev_unknown BIGINT NOT NULL,
    vulns TEXT NOT NULL
);
CREATE INDEX ui_image_rollup_tenant ON ui_image_rollup (tenant_id);

-- Live images with each open vulnerability, per tenant; the severity rank
-- (0 critical .. 4 unknown) is the most severe one seen.
CREATE TABLE ui_vuln_images (
    tenant_id BIGINT NOT NULL,
    vuln_id TEXT NOT NULL,
    images BIGINT NOT NULL,
    severity_rank INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, vuln_id)
);
CREATE INDEX ui_vuln_images_top ON ui_vuln_images (tenant_id, images);

-- Change of the tenant's open findings per UTC day: the 30-day trend is
-- today's total minus the later days' changes.
CREATE TABLE ui_open_delta (
    tenant_id BIGINT NOT NULL,
    day BIGINT NOT NULL,
    delta BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

-- Replaced by ui_open_delta.
DROP TABLE ui_open_daily;

-- Remediation history, newest first, walks only resolved findings (on
-- PostgreSQL a descending scan of findings_resolved first stepped over
-- every open finding's NULL).
DROP INDEX findings_resolved;
CREATE INDEX findings_resolved ON findings (resolved_at, id) WHERE resolved_at IS NOT NULL;
