// The KeyId schemes of providers other than the local vault: remote/<connection>/<KeyId> belongs
// to that connection's RemoteKmsProvider. Any KeyId no scheme claims (a UUID, alias/NAME, an ARN)
// is the local vault's. core/actions/provider-route.ts runs each Action on its key's provider.
import type { Vault } from '../vault/vault.ts';
import { remoteProvider } from './connections.ts';
import { splitRemoteKeyId, type KmsProvider } from './provider.ts';

/** A KeyId scheme: the KeyIds it claims and the provider of each of its instances. */
export interface KeyScheme {
  readonly name: string;
  /** The instance (e.g. the connection) and the KeyId in its provider's namespace; undefined if not of this scheme. */
  match(keyId: string): { readonly instance: string; readonly keyId: string } | undefined;
  provider(vault: Vault, instance: string): Promise<KmsProvider>;
}

export const KEY_SCHEMES: readonly KeyScheme[] = [
  {
    name: 'remote',
    match: (keyId) => {
      const target = splitRemoteKeyId(keyId);
      return target && { instance: target.connection, keyId: target.keyId };
    },
    provider: remoteProvider,
  },
];

export interface SchemeMatch {
  readonly scheme: KeyScheme;
  readonly instance: string;
  /** The KeyId in the provider's own namespace. */
  readonly keyId: string;
}

/** The scheme a KeyId belongs to, with the KeyId its provider knows; undefined: the local vault's. */
export function schemeOf(keyId: string): SchemeMatch | undefined {
  for (const scheme of KEY_SCHEMES) {
    const match = scheme.match(keyId);
    if (match) return { scheme, ...match };
  }
  return undefined;
}
