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
