// ListKeys: a page of the vault's keys; a key-limited access key sees (and counts) only its keys.
// Filters (Alibaba's ListKeys reference, 2016-01-20; validated in core/contract/actions.ts): the
// Values of one Key are ORed, distinct Keys ANDed; TotalCount counts the keys that match.
import { listKeysFilterKey, type ListKeysFilter, type ListKeysFilterKey } from '../contract/actions.ts';
import { aliasesOf, countKeys, listKeys as listKeyRows, listTags, listVersions, reportedKeyState, type KeyRow } from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import { KEY_CREATOR, keyArn } from './key-metadata.ts';
import type { Handler } from './operation.ts';
import { pageOf, pageOffset } from './paging.ts';

/** What a key reads as for each filter Key (a key matches when one of these is among the Values). */
const FILTER_FIELDS: Readonly<Record<ListKeysFilterKey, (db: Db, key: KeyRow) => readonly string[]>> = {
  // The state callers see (PendingImport for an EXTERNAL key without key material), as DescribeKey answers.
  KeyState: (db, key) => [reportedKeyState(key, () => listVersions(db, key.key_id).some((v) => v.material === 'Sealed'))],
  KeySpec: (_db, key) => [key.key_spec],
  KeyUsage: (_db, key) => [key.key_usage],
  ProtectionLevel: (_db, key) => [key.protection_level],
  // Every key of this vault was created by its user (no cloud service creates keys here).
  CreatorType: () => ['User'],
  Creator: () => [KEY_CREATOR],
  // Refused with a value by the schema: no key belongs to a KMS instance.
  DKMSInstanceId: () => [],
  KeyId: (_db, key) => [key.key_id],
  AliasName: (db, key) => aliasesOf(db, key.key_id),
  TagKey: (db, key) => listTags(db, key.key_id).map((t) => t.tag_key),
  TagValue: (db, key) => listTags(db, key.key_id).map((t) => t.tag_value),
};

/** The keys Filters keep, or undefined when they keep every key. Pairs of one Key are pooled. */
function matcher(db: Db, filters: readonly ListKeysFilter[]): ((key: KeyRow) => boolean) | undefined {
  const pooled = new Map<ListKeysFilterKey, string[]>();
  for (const { Key, Values } of filters) {
    const name = listKeysFilterKey(Key);
    pooled.set(name, [...(pooled.get(name) ?? []), ...Values]);
  }
  const conditions = [...pooled].filter(([, values]) => values.length > 0);
  if (conditions.length === 0) return undefined;
  return (key) => conditions.every(([name, values]) => FILTER_FIELDS[name](db, key).some((field) => values.includes(field)));
}

export const listKeys: Handler<'ListKeys'> = (vault, req, ctx) => {
  const { visible } = ctx;
  const db = vault.store.db;
  const matches = req.Filters ? matcher(db, req.Filters) : undefined;
  const all =
    visible || matches
      ? listKeyRows(db, 0, -1).filter((k) => (!visible || visible(k.key_id)) && (!matches || matches(k)))
      : undefined;
  const rows = all ? pageOf(all, req) : listKeyRows(db, pageOffset(req), req.PageSize);
  return Promise.resolve({
    response: {
      Keys: { Key: rows.map((k) => ({ KeyId: k.key_id, KeyArn: keyArn(k.key_id) })) },
      TotalCount: all ? all.length : countKeys(db),
      PageNumber: req.PageNumber,
      PageSize: req.PageSize,
    },
  });
};
