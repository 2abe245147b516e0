-- The action trail: every mutating call whose signature verified, with its outcome. A success is
-- written in the transaction of its change (so a change never commits without its record); a
-- refusal is written on its own afterwards, with no revision. Parameters are the request's
-- business parameters as a JSON object, never its signature fields or secrets.
-- event_id is the order of the trail and the cursor of its paging (BIGSERIAL on PostgreSQL;
-- migrations turn it into an INTEGER PRIMARY KEY AUTOINCREMENT on SQLite).
CREATE TABLE action_trail (
    event_id      BIGSERIAL PRIMARY KEY,
    event_time    TEXT NOT NULL,
    account_id    BIGINT NOT NULL,
    access_key_id TEXT NOT NULL,
    action        TEXT NOT NULL,
    api_version   TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    parameters    TEXT NOT NULL,
    http_status   BIGINT NOT NULL,
    result_code   TEXT NOT NULL,
    revision      BIGINT
);
CREATE INDEX action_trail_by_account ON action_trail (account_id, event_id);
