-- Issue 20: observed flows credited per ENI. The agent knows which NIC saw a connection (the port
-- it arrived on, found by conntrack zone and destination address), so a flow to a secondary ENI is
-- judged at that ENI's groups, not its instance's primary ENI's. network_interface_id is the ENI
-- that saw it; '' only for a classic instance's NIC, which has no ENI (as in agent_reports).
-- The table is made anew (SQLite cannot change a primary key in place); the flows kept before this
-- version were credited to their instance, which meant its primary NIC: they become its primary ENI's.
CREATE TABLE observed_flows_per_eni (
    account_id           BIGINT NOT NULL REFERENCES accounts (account_id),
    instance_id          TEXT NOT NULL,
    network_interface_id TEXT NOT NULL,
    source_ip            TEXT NOT NULL,
    ip_protocol          TEXT NOT NULL,
    port                 INTEGER NOT NULL,
    minute_start         TEXT NOT NULL,
    host_name            TEXT NOT NULL,
    connections          BIGINT NOT NULL,
    PRIMARY KEY (account_id, instance_id, network_interface_id, minute_start, source_ip, ip_protocol, port, host_name)
);

INSERT INTO observed_flows_per_eni (account_id, instance_id, network_interface_id, source_ip, ip_protocol, port, minute_start, host_name, connections)
SELECT f.account_id, f.instance_id,
       COALESCE((SELECT e.network_interface_id FROM network_interfaces e WHERE e.instance_id = f.instance_id AND e.interface_type = 'Primary'), ''),
       f.source_ip, f.ip_protocol, f.port, f.minute_start, f.host_name, f.connections
FROM observed_flows f;

DROP TABLE observed_flows;
ALTER TABLE observed_flows_per_eni RENAME TO observed_flows;
CREATE INDEX observed_flows_by_time ON observed_flows (account_id, minute_start);
