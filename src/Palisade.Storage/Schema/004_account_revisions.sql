-- Issue 19: each account's changes are numbered on their own (1, 2, 3, … per account), so that a
-- tenant sees its own history and never the pace of the others'. The global revision stays, inside
-- the server only (caches, backups). The account's number is taken inside the write lock (SQLite's
-- one writer, PostgreSQL's advisory lock on every node), so it is gap-free and increasing per account;
-- the unique index would refuse a duplicate rather than let two changes share one.
ALTER TABLE revisions ADD COLUMN account_revision BIGINT;

UPDATE revisions SET account_revision = numbered.n
FROM (SELECT revision, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY revision) AS n FROM revisions WHERE account_id IS NOT NULL) AS numbered
WHERE revisions.revision = numbered.revision;

CREATE UNIQUE INDEX revisions_by_account_revision ON revisions (account_id, account_revision);

-- The trail shows the account's number of the change an event committed.
UPDATE action_trail SET revision = r.account_revision
FROM revisions r
WHERE action_trail.revision = r.revision;

-- Agents reported global numbers; they report again (their next report carries the account's number).
DELETE FROM agent_reports;
