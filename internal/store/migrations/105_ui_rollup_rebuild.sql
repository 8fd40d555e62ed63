-- Rewrite ui_image_rollup narrow: dropping its vulns column (104) left
-- the old wide rows' space in place (SQLite pages, PostgreSQL tuples), so
-- the overview's scan of it still read about 2 KB per image.
CREATE TABLE ui_image_rollup_narrow (
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
    kev_unknown BIGINT NOT NULL
);
INSERT INTO ui_image_rollup_narrow (image_id, tenant_id, live, open_findings, fixable_critical, fixable_high, fixable_medium, fixable_low, fixable_unknown, kev_critical, kev_high, kev_medium, kev_low, kev_unknown)
    SELECT image_id, tenant_id, live, open_findings, fixable_critical, fixable_high, fixable_medium, fixable_low, fixable_unknown, kev_critical, kev_high, kev_medium, kev_low, kev_unknown FROM ui_image_rollup;
DROP TABLE ui_image_rollup;
ALTER TABLE ui_image_rollup_narrow RENAME TO ui_image_rollup;
CREATE INDEX ui_image_rollup_tenant ON ui_image_rollup (tenant_id);

-- The overview reads this index instead of the wide image rows: the live
-- images' counts per registry in one pass, and the most vulnerable images
-- in order (critical first), without sorting every image.
CREATE INDEX images_ui_counts ON images (tenant_id, critical, high, medium, low, unknown, id, registry_id, deleted_at) WHERE deleted_at IS NULL;
