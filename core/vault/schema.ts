// Schema migrations, in order; the store applies the missing ones in one transaction.
// Never edit a released migration: add a new one.
import { AUDIT_SCHEMA_SQL } from '../audit/audit-log.ts';

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE keys (
    key_id           TEXT PRIMARY KEY,
    key_spec         TEXT NOT NULL,
    key_usage        TEXT NOT NULL,
    origin           TEXT NOT NULL,
    protection_level TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    key_state        TEXT NOT NULL CHECK (key_state IN ('Enabled', 'Disabled', 'PendingDeletion')),
    creation_date    TEXT NOT NULL,
    delete_date      TEXT,
    seq              INTEGER NOT NULL
  );
  CREATE INDEX keys_by_seq ON keys (seq);
  CREATE TABLE key_versions (
    key_version_id TEXT PRIMARY KEY,
    key_id         TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    creation_date  TEXT NOT NULL,
    public_key     BLOB NOT NULL,
    sealed_private BLOB NOT NULL,
    seq            INTEGER NOT NULL
  );
  CREATE INDEX key_versions_by_key ON key_versions (key_id, seq);
  CREATE TABLE aliases (
    alias_name    TEXT PRIMARY KEY,
    key_id        TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    creation_date TEXT NOT NULL
  );
  CREATE INDEX aliases_by_key ON aliases (key_id);
  CREATE TABLE tags (
    key_id    TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    tag_key   TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
  );
  ${AUDIT_SCHEMA_SQL}
  `,
  `
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    sealed_secret BLOB NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('Enabled', 'Disabled')),
    policy        TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    creation_date TEXT NOT NULL
  );
  CREATE TABLE remote_connections (
    name          TEXT PRIMARY KEY,
    endpoint      TEXT NOT NULL,
    region_id     TEXT NOT NULL,
    protocol      TEXT NOT NULL CHECK (protocol IN ('http', 'https')),
    access_key_id TEXT NOT NULL,
    creation_date TEXT NOT NULL
  );
  `,
  `
  ALTER TABLE keys ADD COLUMN exportable INTEGER NOT NULL DEFAULT 0 CHECK (exportable IN (0, 1));
  ALTER TABLE key_versions ADD COLUMN origin TEXT NOT NULL DEFAULT 'Generated' CHECK (origin IN ('Generated', 'Imported'));
  `,
  `
  CREATE TABLE certificates (
    key_version_id TEXT PRIMARY KEY REFERENCES key_versions (key_version_id) ON DELETE CASCADE,
    chain_pem      TEXT NOT NULL,
    attached_date  TEXT NOT NULL
  );
  `,
  `
  ALTER TABLE key_versions ADD COLUMN material TEXT NOT NULL DEFAULT 'Sealed' CHECK (material IN ('Sealed', 'PublicOnly', 'Deleted'));
  CREATE TABLE import_tokens (
    token_sha256       TEXT PRIMARY KEY,
    key_id             TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    wrapping_algorithm TEXT NOT NULL,
    wrapping_key_spec  TEXT NOT NULL,
    public_key         BLOB NOT NULL,
    sealed_private     BLOB NOT NULL,
    creation_date      TEXT NOT NULL,
    expire_time        TEXT NOT NULL
  );
  CREATE INDEX import_tokens_by_key ON import_tokens (key_id);
  `,
  // Authenticated metadata (core/vault/integrity.ts): a MAC per row under a key derived from the
  // data key. Rows of older vaults get theirs when the vault is first unlocked after the upgrade.
  `
  ALTER TABLE keys ADD COLUMN mac BLOB;
  ALTER TABLE key_versions ADD COLUMN mac BLOB;
  ALTER TABLE aliases ADD COLUMN mac BLOB;
  ALTER TABLE tags ADD COLUMN mac BLOB;
  ALTER TABLE access_keys ADD COLUMN mac BLOB;
  ALTER TABLE remote_connections ADD COLUMN mac BLOB;
  ALTER TABLE certificates ADD COLUMN mac BLOB;
  ALTER TABLE import_tokens ADD COLUMN mac BLOB;
  `,
  // The key versions the user chose for the agent (issue 14: deskkms agent add), each with its
  // confirm-on-use setting. Authenticated like every row that decides what a key may do.
  `
  CREATE TABLE agent_identities (
    key_version_id TEXT PRIMARY KEY REFERENCES key_versions (key_version_id) ON DELETE CASCADE,
    key_id         TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    confirm        INTEGER NOT NULL CHECK (confirm IN (0, 1)),
    added_date     TEXT NOT NULL,
    mac            BLOB
  );
  CREATE INDEX agent_identities_by_key ON agent_identities (key_id);
  `,
  // How requests to a remote KMS connection are signed (issue 16): ACS3-HMAC-SHA256, ACS3-HMAC-SM3
  // or HMAC-SHA1 (core/contract/api-signatures.ts; the value is checked where it is read, so a scheme
  // added later needs no migration). NULL in a row made before this column: that connection keeps
  // HMAC-SHA1, what DeskKMS signed with then, which the server it was made for answers (an older
  // deskkms serve speaks V1 only). Authenticated (core/vault/integrity.ts, an added column).
  `
  ALTER TABLE remote_connections ADD COLUMN signature_algorithm TEXT;
  `,
  // A symmetric key's automatic rotation (issue 18): 'Enabled' or 'Disabled', and the interval in
  // Alibaba's form ("604800s"). NULL in asymmetric keys (and keys made before): no automatic
  // rotation. Authenticated (core/vault/integrity.ts, added columns): rotation decides when the vault
  // makes a new primary version, so an edited policy is Vault.Corrupt, never obeyed.
  `
  ALTER TABLE keys ADD COLUMN automatic_rotation TEXT CHECK (automatic_rotation IN ('Enabled', 'Disabled'));
  ALTER TABLE keys ADD COLUMN rotation_interval TEXT;
  `,
];
