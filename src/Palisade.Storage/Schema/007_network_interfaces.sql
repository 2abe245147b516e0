-- Network interfaces (issue 16). Every VPC instance has a primary ENI; secondary ENIs are made on
-- their own and attached to at most one instance of their VPC and zone. A primary ENI's addresses
-- and groups stay where they were (instance_addresses, memberships: the instance's groups are its
-- primary ENI's); a secondary ENI's are in the two tables below. A private address is unique in its
-- VPC over both (checked inside the write, under the store's write lock).
CREATE TABLE network_interfaces (
    network_interface_id TEXT PRIMARY KEY,
    account_id           BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id            TEXT NOT NULL,
    zone_id              TEXT NOT NULL,
    vpc_id               TEXT NOT NULL REFERENCES vpcs (vpc_id),
    vswitch_id           TEXT NOT NULL REFERENCES vswitches (vswitch_id),
    instance_id          TEXT REFERENCES instances (instance_id),
    interface_type       TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    resource_group_id    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX network_interfaces_by_account ON network_interfaces (account_id, region_id);
CREATE INDEX network_interfaces_by_instance ON network_interfaces (instance_id);
-- One primary ENI per instance.
CREATE UNIQUE INDEX network_interfaces_primary ON network_interfaces (instance_id) WHERE interface_type = 'Primary';

CREATE TABLE network_interface_addresses (
    network_interface_id TEXT NOT NULL REFERENCES network_interfaces (network_interface_id) ON DELETE CASCADE,
    address              TEXT NOT NULL,
    position             BIGINT NOT NULL,
    scope                TEXT NOT NULL,
    PRIMARY KEY (network_interface_id, address),
    UNIQUE (scope, address)
);

CREATE TABLE network_interface_groups (
    network_interface_id TEXT NOT NULL REFERENCES network_interfaces (network_interface_id) ON DELETE CASCADE,
    security_group_id    TEXT NOT NULL REFERENCES security_groups (security_group_id),
    position             BIGINT NOT NULL,
    PRIMARY KEY (network_interface_id, security_group_id)
);
CREATE INDEX network_interface_groups_by_group ON network_interface_groups (security_group_id);

-- The primary ENIs of the VPC instances made before this version, with the ID their instance
-- showed until now in DescribeInstances ("eni-" and the instance ID's tail).
INSERT INTO network_interfaces (network_interface_id, account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, interface_type, name, description, created_at, resource_group_id)
SELECT 'eni-' || substr(instance_id, 3), account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, 'Primary', '', '', created_at, ''
FROM instances WHERE vpc_id IS NOT NULL AND vswitch_id IS NOT NULL;

-- Elastic IP addresses (VPC API 2016-04-28), from the server's public address pool. Associated with
-- an instance (EcsInstance) or an ENI (NetworkInterface), at most one per instance or ENI, or with
-- nothing (Available). A public address is unique over these and instances' public addresses
-- (instance_addresses, kind 'public'): checked inside the write, under the store's write lock.
CREATE TABLE eip_addresses (
    allocation_id        TEXT PRIMARY KEY,
    account_id           BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id            TEXT NOT NULL,
    ip_address           TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    bandwidth            BIGINT NOT NULL,
    internet_charge_type TEXT NOT NULL,
    resource_group_id    TEXT NOT NULL DEFAULT '',
    instance_type        TEXT,
    instance_id          TEXT,
    allocated_at         TEXT NOT NULL
);
CREATE INDEX eip_addresses_by_account ON eip_addresses (account_id, region_id);
CREATE UNIQUE INDEX eip_addresses_by_instance ON eip_addresses (instance_id) WHERE instance_id IS NOT NULL;
