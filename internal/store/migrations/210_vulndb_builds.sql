-- Vulnerability DB builds shared by every process of a deployment on one
-- PostgreSQL: the process that refreshes the feeds publishes the DB file
-- here (in chunks, one transaction), the others load the newest build
-- instead of fetching the feeds themselves.
CREATE TABLE vulndb_builds (
    id {{id}},
    digest TEXT NOT NULL UNIQUE,
    built_at BIGINT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE vulndb_chunks (
    build_id BIGINT NOT NULL REFERENCES vulndb_builds (id),
    seq INTEGER NOT NULL,
    data {{blob}} NOT NULL,
    PRIMARY KEY (build_id, seq)
);
