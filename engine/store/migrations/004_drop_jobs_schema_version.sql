-- engine/jobs kept its own schema version before its table became a store
-- migration (002); the store's schema_migrations is the only version now.
DROP TABLE IF EXISTS jobs_schema_version;
