-- Palisade control-plane schema, version 1. Portable SQL: the same text runs on SQLite and PostgreSQL.
-- Times are TEXT 'yyyy-MM-ddTHH:mm:ssZ' (what ECS returns); IDs are the ECS IDs.

CREATE TABLE accounts (
    account_id   BIGINT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL
);

CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts (account_id),
    secret_ciphertext BYTEA NOT NULL,
    status            TEXT NOT NULL,
    read_only         BOOLEAN NOT NULL,
    created_at        TEXT NOT NULL
);

CREATE TABLE nonces (
    access_key_id TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);

CREATE TABLE client_tokens (
    account_id    BIGINT NOT NULL,
    token         TEXT NOT NULL,
    action        TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (account_id, token)
);

CREATE TABLE vpcs (
    vpc_id      TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id   TEXT NOT NULL,
    cidr_block  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE vswitches (
    vswitch_id  TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id   TEXT NOT NULL,
    vpc_id      TEXT NOT NULL REFERENCES vpcs (vpc_id),
    zone_id     TEXT NOT NULL,
    cidr_block  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE security_groups (
    security_group_id   TEXT PRIMARY KEY,
    account_id          BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id           TEXT NOT NULL,
    vpc_id              TEXT REFERENCES vpcs (vpc_id),
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    group_type          TEXT NOT NULL,
    inner_access_policy TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    next_rule_position  BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX security_groups_by_account ON security_groups (account_id, region_id);

CREATE TABLE security_group_rules (
    rule_id            TEXT PRIMARY KEY,
    security_group_id  TEXT NOT NULL REFERENCES security_groups (security_group_id) ON DELETE CASCADE,
    position           BIGINT NOT NULL,
    direction          TEXT NOT NULL,
    ip_protocol        TEXT NOT NULL,
    port_range         TEXT NOT NULL,
    source_port_range  TEXT,
    policy             TEXT NOT NULL,
    priority           BIGINT NOT NULL,
    nic_type           TEXT NOT NULL,
    peer_kind          TEXT NOT NULL,
    peer_value         TEXT NOT NULL,
    peer_owner_account TEXT,
    peer_owner_id      BIGINT,
    local_cidr         TEXT,
    port_range_list_id TEXT,
    description        TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    identity           TEXT NOT NULL,
    UNIQUE (security_group_id, identity)
);
CREATE INDEX security_group_rules_by_group ON security_group_rules (security_group_id, position);
CREATE INDEX security_group_rules_by_peer ON security_group_rules (peer_kind, peer_value);

CREATE TABLE instances (
    instance_id   TEXT PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (account_id),
    region_id     TEXT NOT NULL,
    zone_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    network_type  TEXT NOT NULL,
    vpc_id        TEXT REFERENCES vpcs (vpc_id),
    vswitch_id    TEXT REFERENCES vswitches (vswitch_id),
    status        TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX instances_by_account ON instances (account_id, region_id);

-- One row per address of an instance's NIC. The scope makes private addresses unique per VPC
-- (or per account's classic network), enforced by the database.
CREATE TABLE instance_addresses (
    instance_id TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    address     TEXT NOT NULL,
    position    BIGINT NOT NULL,
    scope       TEXT NOT NULL,
    PRIMARY KEY (instance_id, kind, address),
    UNIQUE (scope, kind, address)
);

CREATE TABLE memberships (
    instance_id       TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    security_group_id TEXT NOT NULL REFERENCES security_groups (security_group_id),
    position          BIGINT NOT NULL,
    PRIMARY KEY (instance_id, security_group_id)
);
CREATE INDEX memberships_by_group ON memberships (security_group_id);

CREATE TABLE tags (
    account_id    BIGINT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    tag_key       TEXT NOT NULL,
    tag_value     TEXT NOT NULL,
    position      BIGINT NOT NULL,
    PRIMARY KEY (resource_type, resource_id, tag_key)
);
CREATE INDEX tags_by_account ON tags (account_id, resource_type);

-- Every committed write adds one row; the revision is global, gap-free and increasing.
CREATE TABLE revisions (
    revision     BIGINT PRIMARY KEY,
    account_id   BIGINT,
    action       TEXT NOT NULL,
    committed_at TEXT NOT NULL
);
