-- Issue 18: hosts belong to the operator. A host declares the interface names it may carry and the
-- address space of the NICs on it (a binding outside is refused); a host credential may call only
-- that host's agent actions; the host feed knows which commits touched a host's bindings.

CREATE TABLE hosts (
    host_name          TEXT PRIMARY KEY,
    -- Interface name patterns ('*' matches any run of characters), separated by one space.
    interface_patterns TEXT NOT NULL,
    -- CIDR blocks, separated by one space: every private address of a NIC bound here must be in one.
    address_space      TEXT NOT NULL,
    created_at         TEXT NOT NULL
);

CREATE TABLE host_credentials (
    access_key_id     TEXT PRIMARY KEY,
    host_name         TEXT NOT NULL REFERENCES hosts (host_name),
    secret_ciphertext BYTEA NOT NULL,
    status            TEXT NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX host_credentials_by_host ON host_credentials (host_name);

-- The hosts whose bindings a commit changed (a bind, a move, an unbind, an instance deleted while
-- bound): the host feed wakes on these as on any change of an account with a NIC on the host.
CREATE TABLE host_changes (
    revision  BIGINT NOT NULL,
    host_name TEXT NOT NULL,
    PRIMARY KEY (revision, host_name)
);
CREATE INDEX host_changes_by_host ON host_changes (host_name, revision);

-- Hosts bound before this version carried whatever tenants bound: they are declared as carrying
-- any interface and any address, so that nothing bound stops being enforced on upgrade. The
-- operator narrows them with `palisade host declare` (docs/compat.md, Enforcement).
INSERT INTO hosts (host_name, interface_patterns, address_space, created_at)
SELECT DISTINCT host_name, '*', '0.0.0.0/0 ::/0', '2026-12-03T00:00:00Z' FROM host_bindings;
