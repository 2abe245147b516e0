-- Enforcement (issue 5): which host and host-side interface carry an instance's NIC, and what the
-- agents of each host last reported. A binding is control-plane state (it has a revision and is
-- backed up); an agent report is bookkeeping (no revision, not backed up: agents report again).

CREATE TABLE host_bindings (
    instance_id    TEXT PRIMARY KEY REFERENCES instances (instance_id) ON DELETE CASCADE,
    account_id     BIGINT NOT NULL REFERENCES accounts (account_id),
    host_name      TEXT NOT NULL,
    interface_name TEXT NOT NULL,
    bound_at       TEXT NOT NULL
);

CREATE UNIQUE INDEX host_bindings_interface ON host_bindings (host_name, interface_name);

CREATE TABLE agent_reports (
    account_id       BIGINT NOT NULL,
    host_name        TEXT NOT NULL,
    instance_id      TEXT NOT NULL,
    applied_revision BIGINT NOT NULL,
    reported_at      TEXT NOT NULL,
    PRIMARY KEY (account_id, host_name, instance_id)
);

-- "Is this agent in sync?" asks for the account's newest revision.
CREATE INDEX revisions_by_account ON revisions (account_id, revision);
