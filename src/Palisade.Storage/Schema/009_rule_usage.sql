-- Rule hit counts (issue 20 item 4): what the agents' counters say each ECS rule decided, per host
-- and time bucket, and which hosts count at all (since when, without a gap). Bookkeeping like agent
-- reports: no revision (a report never wakes the change feed), kept per account, purged past the
-- server's retention. Backed up, so that a move between stores keeps the history the audit reads.
CREATE TABLE rule_usage (
    account_id             BIGINT NOT NULL REFERENCES accounts (account_id),
    security_group_rule_id TEXT NOT NULL,
    host_name              TEXT NOT NULL,
    bucket_start           TEXT NOT NULL,
    packets                BIGINT NOT NULL,
    bytes                  BIGINT NOT NULL,
    last_hit_at            TEXT NOT NULL,
    PRIMARY KEY (account_id, security_group_rule_id, host_name, bucket_start)
);
CREATE INDEX rule_usage_by_time ON rule_usage (account_id, bucket_start);

CREATE TABLE usage_hosts (
    account_id     BIGINT NOT NULL REFERENCES accounts (account_id),
    host_name      TEXT NOT NULL,
    counting_since TEXT NOT NULL,
    last_report_at TEXT NOT NULL,
    PRIMARY KEY (account_id, host_name)
);
