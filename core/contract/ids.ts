// Identifier patterns and key states, written once for the vault, the hosts and the renderer.
// Runtime-neutral.

/** KeyId, KeyVersionId, RequestId, digest SessionId: a lowercase UUID. */
export const UUID_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
export const UUID = new RegExp(`^${UUID_SOURCE}$`);

/** alias/NAME, as Alibaba Cloud KMS writes aliases. */
export const ALIAS_SOURCE = 'alias\\/[a-zA-Z0-9:/_-]{1,249}';
export const ALIAS = new RegExp(`^${ALIAS_SOURCE}$`);

/** The name of a remote KMS connection: 1-32 of a-z 0-9 -, not starting with '-'. */
export const CONNECTION_NAME_SOURCE = '[a-z0-9][a-z0-9-]{0,31}';
export const CONNECTION_NAME = new RegExp(`^${CONNECTION_NAME_SOURCE}$`);

/** The states a key is stored in (the vault's CHECK constraint lists the same three). */
export const STORED_KEY_STATES = ['Enabled', 'Disabled', 'PendingDeletion'] as const;
export type StoredKeyState = (typeof STORED_KEY_STATES)[number];

/** The states callers see: an EXTERNAL key without key material reads PendingImport. */
export const KEY_STATES = [...STORED_KEY_STATES, 'PendingImport'] as const;
export type KeyState = (typeof KEY_STATES)[number];
