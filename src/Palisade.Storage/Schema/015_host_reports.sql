-- Issue 17, twentieth session: which status report each host's rows in agent_reports are, by the host
-- revision its agent applied and the moment the report arrived (microseconds since 1970). A host's poll
-- that carries its report is answered without waiting for the report's write, and the agent carries its
-- latest report again until an answer says one is stored; so an older report of a host may be written
-- after a newer one (in a later batch, or on another node). The reports' write keeps the newer:
-- ReplaceHostReports and SaveHostReports replace a host's rows only with a report at least as new as
-- the one recorded here. Bookkeeping like agent_reports: writing it makes no revision, and backups
-- leave it out.
CREATE TABLE host_reports (
    host_name        TEXT PRIMARY KEY,
    applied_revision BIGINT NOT NULL,
    arrived_us       BIGINT NOT NULL
);
