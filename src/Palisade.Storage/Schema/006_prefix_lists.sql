-- Prefix lists and port-range lists (issue 16 items 2 and 4): an account's named sets of CIDR
-- blocks and of port ranges, which rules name as their peer (security_group_rules.peer_kind
-- 'prefix-list') or as their ports (security_group_rules.port_range_list_id). MaxEntries is fixed
-- at creation (ECS); entries keep the order they were added in.

CREATE TABLE prefix_lists (
    prefix_list_id    TEXT PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id         TEXT NOT NULL,
    address_family    TEXT NOT NULL,
    max_entries       BIGINT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    resource_group_id TEXT NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX prefix_lists_by_account ON prefix_lists (account_id, region_id);

CREATE TABLE prefix_list_entries (
    prefix_list_id TEXT NOT NULL REFERENCES prefix_lists (prefix_list_id) ON DELETE CASCADE,
    cidr           TEXT NOT NULL,
    description    TEXT NOT NULL,
    position       BIGINT NOT NULL,
    PRIMARY KEY (prefix_list_id, cidr)
);

CREATE TABLE port_range_lists (
    port_range_list_id TEXT PRIMARY KEY,
    account_id         BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id          TEXT NOT NULL,
    max_entries        BIGINT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    resource_group_id  TEXT NOT NULL,
    created_at         TEXT NOT NULL
);
CREATE INDEX port_range_lists_by_account ON port_range_lists (account_id, region_id);

CREATE TABLE port_range_list_entries (
    port_range_list_id TEXT NOT NULL REFERENCES port_range_lists (port_range_list_id) ON DELETE CASCADE,
    port_range         TEXT NOT NULL,
    description        TEXT NOT NULL,
    position           BIGINT NOT NULL,
    PRIMARY KEY (port_range_list_id, port_range)
);

CREATE INDEX security_group_rules_by_port_range_list ON security_group_rules (port_range_list_id);
