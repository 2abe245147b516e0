-- Observed flows (issue 20 items 5-6): the new connections the agents saw their NICs' rules accept,
-- sampled and added up per NIC, source address, protocol, destination port, minute and host. They
-- hold addresses, so they are kept per account (the NIC's own), purged past the server's retention,
-- and never taken from a host the operator switched sampling off for. Bookkeeping like rule usage:
-- no revision. Backed up with the rest of the account's history.
CREATE TABLE observed_flows (
    account_id   BIGINT NOT NULL REFERENCES accounts (account_id),
    instance_id  TEXT NOT NULL,
    source_ip    TEXT NOT NULL,
    ip_protocol  TEXT NOT NULL,
    port         INTEGER NOT NULL,
    minute_start TEXT NOT NULL,
    host_name    TEXT NOT NULL,
    connections  BIGINT NOT NULL,
    PRIMARY KEY (account_id, instance_id, minute_start, source_ip, ip_protocol, port, host_name)
);
CREATE INDEX observed_flows_by_time ON observed_flows (account_id, minute_start);

-- The hosts whose agents sample for the account: since when without a gap, the latest report, and
-- how many new connections they could not keep (over their rate cap) since sampling began.
CREATE TABLE flow_hosts (
    account_id     BIGINT NOT NULL REFERENCES accounts (account_id),
    host_name      TEXT NOT NULL,
    sampling_since TEXT NOT NULL,
    last_report_at TEXT NOT NULL,
    dropped        BIGINT NOT NULL,
    PRIMARY KEY (account_id, host_name)
);

-- Hosts whose operator turned flow sampling off (palisade host declare --no-flow-sampling): their
-- agents are told not to sample, and whatever flows they send anyway are dropped.
CREATE TABLE hosts_without_flow_sampling (
    host_name TEXT PRIMARY KEY REFERENCES hosts (host_name),
    since     TEXT NOT NULL
);
