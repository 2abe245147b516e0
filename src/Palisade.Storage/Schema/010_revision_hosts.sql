-- Issue 17 item 3: the hosts each committed change may alter the enforced policy of (the host-scoped
-- feed). Written with the revision, in its transaction, from what the change touched; an agent's long
-- poll waits for the changes of its host only. A change that cannot be narrowed (a restore) names
-- every host of its account as '*'. Derived bookkeeping: not backed up (a restore wakes every host).
CREATE TABLE revision_hosts (
    revision  BIGINT NOT NULL,
    host_name TEXT NOT NULL,
    PRIMARY KEY (revision, host_name)
);

CREATE INDEX revision_hosts_by_host ON revision_hosts (host_name, revision);
