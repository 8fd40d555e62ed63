-- The outcome of the last feed refresh of the deployment, whichever
-- process ran it, so every process's GET /api/v1/db reports it.
CREATE TABLE vulndb_refresh (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    error TEXT NOT NULL
);
