-- Issue 16 item 6: enforcement per ENI. A binding says which host interface carries one network
-- interface (ENI), not one instance: an instance with secondary ENIs has one binding per ENI it
-- has on a host, each ENI enforced on its own port. network_interface_id is the key; it is NULL only
-- for the NIC of a classic-network instance, which has no ENI on ECS (the instance is the key then).
-- The table is made anew (SQLite cannot change a primary key in place); the bindings made before
-- this version become their instance's primary ENI's.
CREATE TABLE host_bindings_per_eni (
    network_interface_id TEXT UNIQUE REFERENCES network_interfaces (network_interface_id) ON DELETE CASCADE,
    instance_id          TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    account_id           BIGINT NOT NULL REFERENCES accounts (account_id),
    host_name            TEXT NOT NULL,
    interface_name       TEXT NOT NULL,
    bound_at             TEXT NOT NULL
);

INSERT INTO host_bindings_per_eni (network_interface_id, instance_id, account_id, host_name, interface_name, bound_at)
SELECT (SELECT e.network_interface_id FROM network_interfaces e WHERE e.instance_id = b.instance_id AND e.interface_type = 'Primary'),
       b.instance_id, b.account_id, b.host_name, b.interface_name, b.bound_at
FROM host_bindings b;

DROP TABLE host_bindings;
ALTER TABLE host_bindings_per_eni RENAME TO host_bindings;
CREATE UNIQUE INDEX host_bindings_interface ON host_bindings (host_name, interface_name);
-- A classic instance's one NIC is bound once.
CREATE UNIQUE INDEX host_bindings_classic ON host_bindings (instance_id) WHERE network_interface_id IS NULL;
CREATE INDEX host_bindings_by_instance ON host_bindings (instance_id);

-- What agents last reported, per ENI too ('' for a classic instance's NIC). Bookkeeping without a
-- revision, never backed up: agents report again, so the old rows are simply dropped.
DROP TABLE agent_reports;
CREATE TABLE agent_reports (
    account_id           BIGINT NOT NULL,
    host_name            TEXT NOT NULL,
    instance_id          TEXT NOT NULL,
    network_interface_id TEXT NOT NULL,
    applied_revision     BIGINT NOT NULL,
    reported_at          TEXT NOT NULL,
    PRIMARY KEY (account_id, host_name, instance_id, network_interface_id)
);
