-- The overview sums ui_image_rollup's counts on every request: keep that
-- table narrow by moving each image's vulnerability list (about 1.5 KB) to
-- a table of its own, read only when the image's rollup is refreshed.
CREATE TABLE ui_image_vulns (
    image_id BIGINT PRIMARY KEY,
    vulns TEXT NOT NULL
);
INSERT INTO ui_image_vulns (image_id, vulns) SELECT image_id, vulns FROM ui_image_rollup;
ALTER TABLE ui_image_rollup DROP COLUMN vulns;
