-- Issue 18: host credentials are listed, rotated and revoked by the operator (palisade host
-- credential list|rotate|revoke). A revoked credential's row is deleted; this records when each
-- credential was last used to sign a request (to the minute: each server node writes it at most
-- once a minute per credential), so that the operator sees which ones an agent still uses before
-- revoking. Bookkeeping like agent reports: writing it makes no revision, and backups leave it out.
ALTER TABLE host_credentials ADD COLUMN last_used_at TEXT;
