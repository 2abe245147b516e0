-- Issue 17: the hosts whose enforced policy each committed change may alter (the host-scoped feed).
-- Written with the revision, in its transaction, from what the change touched, of any account; a
-- host's agent (its host credential, issue 18) waits for the changes of its host only. A change that
-- cannot be narrowed (a restore) names every host as '*'. It replaces host_changes (migration 008),
-- which named only the hosts whose bindings a commit changed: those are named here too.
CREATE TABLE revision_hosts (
    revision  BIGINT NOT NULL,
    host_name TEXT NOT NULL,
    PRIMARY KEY (revision, host_name)
);

CREATE INDEX revision_hosts_by_host ON revision_hosts (host_name, revision);

INSERT INTO revision_hosts (revision, host_name) SELECT revision, host_name FROM host_changes;

-- The commits before this version were not narrowed: the newest of them names every host, so an
-- agent that is behind across the upgrade is woken once and fetches what it missed.
INSERT INTO revision_hosts (revision, host_name)
SELECT revision, '*' FROM revisions WHERE revision = (SELECT MAX(revision) FROM revisions);

DROP TABLE host_changes;
