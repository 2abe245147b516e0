-- Issue 17, twenty-third session: a status report writes O(hosts × accounts on them) rows, not one a
-- NIC. Every NIC of one account on one host is reported with the same applied revision and time (the
-- account's revision at the host's, when the report came), and after a change a fleet reports new
-- revisions over the same NICs: 10,000 rows deleted and 10,000 inserted per 1,000-host join, 515 of
-- PostgreSQL's 870 ms. Now the revision and time are one row a (host, account), upserted by every report,
-- and the NICs a host reported are rows of their own, rewritten only when the set differs: its digest is
-- kept with the host's report mark (host_reports.nics_digest) and compared in the mark's guarded upsert
-- (nics_digest_before: the digest the row had, read back by RETURNING). NULL digest: unknown, the next
-- report rewrites. Bookkeeping like agent_reports was: writing it makes no revision, backups leave it out.
CREATE TABLE agent_report_accounts (
    host_name        TEXT NOT NULL,
    account_id       BIGINT NOT NULL,
    applied_revision BIGINT NOT NULL,
    reported_at      TEXT NOT NULL,
    PRIMARY KEY (host_name, account_id)
);

CREATE TABLE agent_report_nics (
    host_name            TEXT NOT NULL,
    account_id           BIGINT NOT NULL,
    instance_id          TEXT NOT NULL,
    network_interface_id TEXT NOT NULL,
    PRIMARY KEY (host_name, account_id, instance_id, network_interface_id)
);
CREATE INDEX agent_report_nics_by_account ON agent_report_nics (account_id, host_name);

-- The rows reported before: every row of a (host, account) was written with one revision and time; the
-- lowest is kept should they differ (a NIC is never shown newer than its report said).
INSERT INTO agent_report_accounts (host_name, account_id, applied_revision, reported_at)
SELECT host_name, account_id, MIN(applied_revision), MIN(reported_at) FROM agent_reports GROUP BY host_name, account_id;
INSERT INTO agent_report_nics (host_name, account_id, instance_id, network_interface_id)
SELECT host_name, account_id, instance_id, network_interface_id FROM agent_reports;
DROP TABLE agent_reports;

ALTER TABLE host_reports ADD COLUMN nics_digest TEXT;
ALTER TABLE host_reports ADD COLUMN nics_digest_before TEXT;
