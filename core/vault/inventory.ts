// Every key's metadata in one read, for the desktop app's key list (virtualized over up to tens of
// thousands of keys): five queries, joined in memory, instead of one DescribeKey per key.
import type { KeySummary } from '../contract/app-api.ts';
import type { KeySpec, KeyUsage } from '../contract/specs.ts';
import { reportedKeyState, type KeyState } from './records.ts';
import type { Db } from './store.ts';
import { verifiedAll } from './integrity.ts';

interface InventoryRow {
  readonly key_id: string;
  readonly key_spec: KeySpec;
  readonly key_usage: KeyUsage;
  readonly key_state: KeyState;
  readonly description: string;
  readonly creation_date: string;
  readonly delete_date: string | null;
  readonly origin: string;
  readonly exportable: 0 | 1;
  readonly automatic_rotation: string | null;
  readonly rotation_interval: string | null;
}

function groupBy<T extends { key_id: string }, V>(rows: readonly T[], value: (row: T) => V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const row of rows) {
    let list = groups.get(row.key_id);
    if (!list) groups.set(row.key_id, (list = []));
    list.push(value(row));
  }
  return groups;
}

/** All keys in creation order, each with its aliases, tags and version count. */
export function keyInventory(db: Db): KeySummary[] {
  const read = db.transaction((): KeySummary[] => {
    // Every row is authenticated (integrity.ts), so the whole rows are read, MACs included.
    const keys = verifiedAll(
      db,
      'keys',
      db.prepare('SELECT key_id, key_spec, key_usage, origin, protection_level, key_state, description, creation_date, delete_date, exportable, automatic_rotation, rotation_interval, mac FROM keys ORDER BY seq').all() as InventoryRow[],
    );
    const aliases = groupBy(
      verifiedAll(db, 'aliases', db.prepare('SELECT alias_name, key_id, creation_date, mac FROM aliases ORDER BY alias_name').all() as { key_id: string; alias_name: string }[]),
      (r) => r.alias_name,
    );
    const tags = groupBy(
      verifiedAll(db, 'tags', db.prepare('SELECT key_id, tag_key, tag_value, mac FROM tags ORDER BY tag_key').all() as { key_id: string; tag_key: string; tag_value: string }[]),
      (r) => ({ TagKey: r.tag_key, TagValue: r.tag_value }),
    );
    const versions = verifiedAll(
      db,
      'key_versions',
      db.prepare('SELECT key_version_id, key_id, creation_date, public_key, origin, material, mac FROM key_versions').all() as { key_id: string; material: string }[],
    );
    const versionCounts = new Map<string, number>();
    const sealed = new Set<string>();
    for (const v of versions) {
      versionCounts.set(v.key_id, (versionCounts.get(v.key_id) ?? 0) + 1);
      if (v.material === 'Sealed') sealed.add(v.key_id);
    }
    return keys.map((k) => ({
      KeyId: k.key_id,
      KeySpec: k.key_spec,
      KeyUsage: k.key_usage,
      KeyState: reportedKeyState(k, sealed.has(k.key_id)),
      Description: k.description,
      CreationDate: k.creation_date,
      DeleteDate: k.delete_date ?? '',
      Origin: k.origin,
      Exportable: k.exportable === 1,
      Aliases: aliases.get(k.key_id) ?? [],
      Tags: tags.get(k.key_id) ?? [],
      VersionCount: versionCounts.get(k.key_id) ?? 0,
    }));
  });
  // A read transaction: the queries see one snapshot even while the write queue commits.
  return read.deferred();
}

/** Key versions (authenticated rows) after position `afterSeq` (key_versions.seq): what a backup taken at that point lacks. */
export function countVersionsAfter(db: Db, afterSeq: number): number {
  const rows = db.prepare('SELECT key_version_id, key_id, creation_date, public_key, origin, material, mac FROM key_versions WHERE seq > ?').all(afterSeq) as {
    key_version_id: string;
    key_id: string;
    creation_date: string;
    public_key: Uint8Array;
    origin: string;
    material: string;
  }[];
  return verifiedAll(db, 'key_versions', rows).length;
}
