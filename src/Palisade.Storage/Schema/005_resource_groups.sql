-- Resource groups (issue 15): the ResourceGroupId a security group or an instance was created in or
-- moved to by JoinResourceGroup. NULL (rows of older versions and older backups) reads as "", the
-- account's default, as ECS answers for a resource in no named group.

ALTER TABLE security_groups ADD COLUMN resource_group_id TEXT;

ALTER TABLE instances ADD COLUMN resource_group_id TEXT;
