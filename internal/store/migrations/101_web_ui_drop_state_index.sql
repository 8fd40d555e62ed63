-- findings_state_image (100) led the SQLite planner to scan every open
-- finding for lookups by vulnerability id or package (state = 'open' looked
-- selective); the vuln_id and package indexes serve those queries.
DROP INDEX findings_state_image;
