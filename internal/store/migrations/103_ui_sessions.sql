-- Web UI sessions (internal/web/session.go), in the database so they
-- survive a restart and work across API replicas. The cookie value is
-- never stored: id_hash is its SHA-256 (hex). A session acts as the API
-- token it was opened with and ends if that token is gone.
CREATE TABLE ui_sessions (
    id_hash TEXT PRIMARY KEY,
    token_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);
