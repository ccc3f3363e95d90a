// A provider performs Actions on the keys it owns. The local vault's provider is the handler
// table (core/actions/*-handlers.ts); a remote provider forwards to another KMS. Adding another KMS
// (AWS KMS, a Vault transit engine) is one module implementing this interface: it receives a
// validated request in the Alibaba vocabulary, with KeyIds in its own namespace, and returns the
// response body.
import type { ActionName } from '../contract/actions.ts';
import { CONNECTION_NAME_SOURCE } from '../contract/ids.ts';

export interface KmsProvider {
  /** Name used in KeyIds (remote/<name>/<KeyId>) and in errors. */
  readonly name: string;
  /** The Actions this provider forwards; anything else on its keys is InvalidParameter. */
  readonly actions: ReadonlySet<ActionName>;
  invoke(action: ActionName, params: Readonly<Record<string, unknown>>): Promise<Record<string, unknown>>;
}

/** KeyIds of remote keys: remote/<connection>/<KeyId or alias/NAME on that KMS>. */
export const REMOTE_KEY_ID = new RegExp(`^remote\\/(${CONNECTION_NAME_SOURCE})\\/(.+)$`);

export function remoteKeyId(connection: string, keyId: string): string {
  return `remote/${connection}/${keyId}`;
}

export function splitRemoteKeyId(keyId: unknown): { connection: string; keyId: string } | undefined {
  if (typeof keyId !== 'string') return undefined;
  const m = REMOTE_KEY_ID.exec(keyId);
  return m ? { connection: m[1]!, keyId: m[2]! } : undefined;
}
