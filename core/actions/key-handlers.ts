// Key lifecycle, versions, aliases and tags. Checks that race with other processes (alias
// uniqueness, state transitions) are repeated inside the write, where SQLite serialises writers.
import { randomUUID } from 'node:crypto';
import { MAX_TAGS_PER_KEY, type ActionName, type KeyMetadata, type Tag } from '../contract/actions.ts';
import { KmsError, invalidParameter } from '../contract/errors.ts';
import { KEY_SPEC_TABLE, usagesOf } from '../contract/specs.ts';
import { publicKeyPem, importPublicKey } from '../crypto/engine.ts';
import {
  countVersions,
  deleteAlias,
  deleteTag,
  getAlias,
  getKey,
  insertAlias,
  insertKey,
  insertVersion,
  latestVersionDate,
  listAliases,
  listKeys,
  listTags,
  listVersions,
  repointAlias,
  updateDescription,
  updateKeyState,
  upsertTag,
  countKeys,
  countSealedVersions,
  reportedKeyState,
  type KeyRow,
  type KeyState,
  type VersionRow,
} from '../vault/records.ts';
import type { Db } from '../vault/store.ts';
import { kmsDate, type Vault } from '../vault/vault.ts';
import type { CallContext, Handler, HandlerResult } from './operation.ts';

const ARN_PREFIX = 'acs:kms:local:deskkms';
const MAX_ALIASES_PER_KEY = 5;

export function keyArn(keyId: string): string {
  return `${ARN_PREFIX}:key/${keyId}`;
}

function keyState(db: Db, key: KeyRow): KeyMetadata['KeyState'] {
  return reportedKeyState(key, countSealedVersions(db, key.key_id) > 0);
}

function metadata(key: KeyRow, lastRotationDate: string, state: KeyMetadata['KeyState'] = key.key_state): KeyMetadata {
  return {
    KeyId: key.key_id,
    Arn: keyArn(key.key_id),
    KeySpec: key.key_spec,
    KeyUsage: key.key_usage,
    KeyState: state,
    Description: key.description,
    CreationDate: key.creation_date,
    DeleteDate: key.delete_date ?? '',
    Creator: 'deskkms',
    Origin: key.origin,
    ProtectionLevel: key.protection_level,
    MaterialExpireTime: '',
    // Asymmetric keys have no primary version here: every call names its KeyVersionId.
    PrimaryKeyVersion: '',
    LastRotationDate: lastRotationDate,
    AutomaticRotation: 'Disabled',
    RotationInterval: '',
    NextRotationDate: '',
    Exportable: key.exportable === 1,
  };
}

/** The key as it stands inside the current write, refusing if it vanished meanwhile. */
function currentKey(db: Db, keyId: string): KeyRow {
  const key = getKey(db, keyId);
  if (!key) throw new KmsError('Forbidden.KeyNotFound', `key ${keyId} does not exist`);
  return key;
}

export function assertUsable(key: KeyRow): void {
  if (key.key_state === 'Disabled') throw new KmsError('Rejected.Disabled', `key ${key.key_id} is disabled; enable it with EnableKey`);
  if (key.key_state === 'PendingDeletion') {
    throw new KmsError(
      'Rejected.PendingDeletion',
      `key ${key.key_id} is pending deletion (due ${key.delete_date ?? '?'}); cancel with CancelKeyDeletion to use it`,
    );
  }
}

/** Sign, Decrypt and Export need the version's private key sealed in this vault. */
export function assertPrivateMaterial(key: KeyRow, version: VersionRow): void {
  if (version.material === 'PublicOnly') {
    throw new KmsError('Rejected.PublicKeyOnly', `key version ${version.key_version_id} of key ${key.key_id} holds only a public key: it can verify and encrypt, not sign, decrypt or be exported`);
  }
  if (version.material === 'Deleted') {
    throw new KmsError('Rejected.PendingImport', `the key material of key ${key.key_id} was deleted (DeleteKeyMaterial); import the same material again with GetParametersForImport and ImportKeyMaterial`);
  }
}

/** Keys whose versions come from elsewhere (ImportKeyMaterial, ImportPublicKeyVersion) get no generated or PKCS#8-imported versions. */
export function assertGeneratedOrigin(key: KeyRow, action: string): void {
  if (key.origin === 'EXTERNAL') {
    throw invalidParameter('KeyId', `key ${key.key_id} has Origin EXTERNAL: its key material comes only from ImportKeyMaterial, not ${action}`);
  }
  if (key.origin === 'EXTERNAL_PUBLIC_KEY') {
    throw invalidParameter('KeyId', `key ${key.key_id} has Origin EXTERNAL_PUBLIC_KEY: its versions come only from ImportPublicKeyVersion, not ${action}`);
  }
}

export function resolve(vault: Vault, keyId: string, ctx: CallContext): KeyRow {
  let key: KeyRow;
  try {
    key = vault.resolveKey(keyId);
  } catch (error) {
    if (error instanceof KmsError && (error.code === 'Forbidden.KeyNotFound' || error.code === 'Forbidden.AliasNotFound')) {
      ctx.keyId ??= keyId; // audited as given (dispatch escapes it)
      ctx.authorizeMissing?.(keyId);
    }
    throw error;
  }
  ctx.keyId = key.key_id;
  ctx.authorize?.(key.key_id, keyId);
  return key;
}

/** A new key pair made in the key worker, as the version row to insert. */
async function newVersion(vault: Vault, key: Pick<KeyRow, 'key_id' | 'key_spec'>, ctx: CallContext): Promise<VersionRow> {
  await vault.ensureUnlocked();
  const keyVersionId = randomUUID();
  ctx.keyVersionId = keyVersionId;
  const generated = await vault.worker.request({ op: 'generate', keyId: key.key_id, keyVersionId, spec: key.key_spec });
  return { key_version_id: keyVersionId, key_id: key.key_id, creation_date: kmsDate(vault.now()), public_key: generated.publicKey, sealed_private: generated.sealed };
}

function applyTags(db: Db, keyId: string, tags: readonly Tag[]): void {
  for (const tag of tags) upsertTag(db, { key_id: keyId, tag_key: tag.TagKey, tag_value: tag.TagValue });
  if (listTags(db, keyId).length > MAX_TAGS_PER_KEY) throw invalidParameter('Tags', `key ${keyId} would have more than ${MAX_TAGS_PER_KEY} tags`);
}

/** A state change, checked now (a prompt refusal) and again inside the write, where writers are serialised. */
function transition(vault: Vault, keyIdParam: string, ctx: CallContext, check: (k: KeyRow) => void, to: KeyState, deleteDate: string | null = null): Promise<HandlerResult> {
  const key = resolve(vault, keyIdParam, ctx);
  check(key);
  return Promise.resolve({
    response: {},
    write: (db) => {
      const k = currentKey(db, key.key_id);
      check(k);
      updateKeyState(db, k.key_id, to, deleteDate);
    },
  });
}

function setState<A extends 'EnableKey' | 'DisableKey'>(from: readonly KeyState[], to: KeyState): Handler<A> {
  const check = (k: KeyRow): void => {
    if (k.key_state === 'PendingDeletion' && !from.includes('PendingDeletion')) assertUsable(k);
    if (!from.includes(k.key_state)) {
      throw invalidParameter('KeyId', `key ${k.key_id} is ${k.key_state}; this call needs it ${from.join(' or ')}`);
    }
  };
  return (vault, req, ctx) => transition(vault, req.KeyId, ctx, check, to);
}

type KeyAction = Extract<
  ActionName,
  | 'CreateKey'
  | 'DescribeKey'
  | 'ListKeys'
  | 'UpdateKeyDescription'
  | 'CreateKeyVersion'
  | 'DescribeKeyVersion'
  | 'ListKeyVersions'
  | 'GetPublicKey'
  | 'CreateAlias'
  | 'UpdateAlias'
  | 'DeleteAlias'
  | 'ListAliases'
  | 'ListAliasesByKeyId'
  | 'EnableKey'
  | 'DisableKey'
  | 'ScheduleKeyDeletion'
  | 'CancelKeyDeletion'
  | 'TagResource'
  | 'UntagResource'
  | 'ListResourceTags'
>;

export const KEY_HANDLERS: { readonly [A in KeyAction]: Handler<A> } = {
  async CreateKey(vault, req, ctx) {
    const usage = req.KeyUsage ?? KEY_SPEC_TABLE[req.KeySpec].defaultUsage;
    if (!usagesOf(req.KeySpec).includes(usage)) {
      throw invalidParameter('KeyUsage', `${usage} is not available for ${req.KeySpec}; valid: ${usagesOf(req.KeySpec).join(', ')}`);
    }
    if (req.Origin !== 'Aliyun_KMS' && req.Exportable) {
      throw invalidParameter('Exportable', `keys of Origin ${req.Origin} hold material from elsewhere and cannot be created Exportable`);
    }
    const keyId = randomUUID();
    ctx.keyId = keyId;
    const row: KeyRow = {
      key_id: keyId,
      key_spec: req.KeySpec,
      key_usage: usage,
      origin: req.Origin,
      protection_level: req.ProtectionLevel,
      description: req.Description,
      key_state: 'Enabled',
      creation_date: kmsDate(vault.now()),
      delete_date: null,
      exportable: req.Exportable ? 1 : 0,
    };
    // EXTERNAL keys start without key material (PendingImport); EXTERNAL_PUBLIC_KEY keys without versions.
    const v = req.Origin === 'Aliyun_KMS' ? await newVersion(vault, row, ctx) : undefined;
    return {
      response: { KeyMetadata: metadata(row, v?.creation_date ?? '', reportedKeyState(row, v !== undefined)) },
      write: (db) => {
        insertKey(db, row);
        if (v) insertVersion(db, v);
        applyTags(db, keyId, req.Tags ?? []);
      },
    };
  },

  DescribeKey(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const db = vault.store.db;
    return Promise.resolve({ response: { KeyMetadata: metadata(key, latestVersionDate(db, key.key_id) ?? key.creation_date, keyState(db, key)) } });
  },

  ListKeys(vault, req, ctx) {
    const offset = (req.PageNumber - 1) * req.PageSize;
    const { visible } = ctx;
    // A key-limited access key sees only its keys (and counts only those).
    const all = visible ? listKeys(vault.store.db, 0, -1).filter((k) => visible(k.key_id)) : undefined;
    const rows = all ? all.slice(offset, offset + req.PageSize) : listKeys(vault.store.db, offset, req.PageSize);
    return Promise.resolve({
      response: {
        Keys: { Key: rows.map((k) => ({ KeyId: k.key_id, KeyArn: keyArn(k.key_id) })) },
        TotalCount: all ? all.length : countKeys(vault.store.db),
        PageNumber: req.PageNumber,
        PageSize: req.PageSize,
      },
    });
  },

  UpdateKeyDescription(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    return Promise.resolve({ response: {}, write: (db) => updateDescription(db, currentKey(db, key.key_id).key_id, req.Description) });
  },

  async CreateKeyVersion(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    assertUsable(key);
    assertGeneratedOrigin(key, 'CreateKeyVersion');
    const v = await newVersion(vault, key, ctx);
    return {
      response: { KeyVersion: { KeyId: key.key_id, KeyVersionId: v.key_version_id, CreationDate: v.creation_date } },
      write: (db) => {
        assertUsable(currentKey(db, key.key_id));
        insertVersion(db, v);
      },
    };
  },

  DescribeKeyVersion(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const version = vault.resolveVersion(key, req.KeyVersionId);
    ctx.keyVersionId = version.key_version_id;
    return Promise.resolve({ response: { KeyVersion: { KeyId: key.key_id, KeyVersionId: version.key_version_id, CreationDate: version.creation_date } } });
  },

  ListKeyVersions(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const rows = listVersions(vault.store.db, key.key_id, (req.PageNumber - 1) * req.PageSize, req.PageSize);
    return Promise.resolve({
      response: {
        KeyVersions: { KeyVersion: rows.map((v) => ({ KeyId: key.key_id, KeyVersionId: v.key_version_id, CreationDate: v.creation_date })) },
        TotalCount: countVersions(vault.store.db, key.key_id),
        PageNumber: req.PageNumber,
        PageSize: req.PageSize,
      },
    });
  },

  GetPublicKey(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const version = vault.resolveVersion(key, req.KeyVersionId);
    ctx.keyVersionId = version.key_version_id;
    const pem = publicKeyPem(importPublicKey(version.public_key));
    return Promise.resolve({ response: { KeyId: key.key_id, KeyVersionId: version.key_version_id, PublicKey: pem } });
  },

  CreateAlias(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const create = (db: Db): void => {
      if (getAlias(db, req.AliasName)) throw new KmsError('AliasAlreadyExists', `alias ${req.AliasName} already exists; use UpdateAlias to repoint it`);
      if (listAliases(db, key.key_id, 0, 0).total >= MAX_ALIASES_PER_KEY) {
        throw invalidParameter('AliasName', `key ${key.key_id} already has ${MAX_ALIASES_PER_KEY} aliases`);
      }
      currentKey(db, key.key_id);
      insertAlias(db, { alias_name: req.AliasName, key_id: key.key_id, creation_date: kmsDate(vault.now()) });
    };
    return Promise.resolve({ response: {}, write: create });
  },

  UpdateAlias(vault, req, ctx) {
    const current = getAlias(vault.store.db, req.AliasName);
    if (current) ctx.authorize?.(current.key_id, req.AliasName);
    else ctx.authorizeMissing?.(req.AliasName);
    const key = resolve(vault, req.KeyId, ctx);
    const update = (db: Db): void => {
      if (!getAlias(db, req.AliasName)) throw new KmsError('Forbidden.AliasNotFound', `alias ${req.AliasName} does not exist`);
      currentKey(db, key.key_id);
      repointAlias(db, req.AliasName, key.key_id);
    };
    return Promise.resolve({ response: {}, write: update });
  },

  DeleteAlias(vault, req, ctx) {
    const alias = getAlias(vault.store.db, req.AliasName);
    if (!alias) {
      ctx.authorizeMissing?.(req.AliasName);
      throw new KmsError('Forbidden.AliasNotFound', `alias ${req.AliasName} does not exist`);
    }
    ctx.keyId = alias.key_id;
    ctx.authorize?.(alias.key_id, req.AliasName);
    return Promise.resolve({
      response: {},
      write: (db) => {
        if (!getAlias(db, req.AliasName)) throw new KmsError('Forbidden.AliasNotFound', `alias ${req.AliasName} does not exist`);
        deleteAlias(db, req.AliasName);
      },
    });
  },

  ListAliases(vault, req, ctx) {
    const offset = (req.PageNumber - 1) * req.PageSize;
    const { visible } = ctx;
    if (visible) {
      const all = listAliases(vault.store.db, undefined, 0, -1).rows.filter((a) => visible(a.key_id));
      return Promise.resolve({ response: aliasPage(all.slice(offset, offset + req.PageSize), all.length, req.PageNumber, req.PageSize) });
    }
    const { rows, total } = listAliases(vault.store.db, undefined, offset, req.PageSize);
    return Promise.resolve({ response: aliasPage(rows, total, req.PageNumber, req.PageSize) });
  },

  ListAliasesByKeyId(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const { rows, total } = listAliases(vault.store.db, key.key_id, (req.PageNumber - 1) * req.PageSize, req.PageSize);
    return Promise.resolve({ response: aliasPage(rows, total, req.PageNumber, req.PageSize) });
  },

  EnableKey: setState<'EnableKey'>(['Enabled', 'Disabled'], 'Enabled'),
  DisableKey: setState<'DisableKey'>(['Enabled', 'Disabled'], 'Disabled'),

  ScheduleKeyDeletion(vault, req, ctx) {
    const due = kmsDate(new Date(vault.now().getTime() + req.PendingWindowInDays * 86_400_000));
    const check = (k: KeyRow): void => {
      if (k.key_state === 'PendingDeletion') throw new KmsError('Rejected.PendingDeletion', `key ${k.key_id} is already pending deletion (due ${k.delete_date ?? '?'})`);
    };
    return transition(vault, req.KeyId, ctx, check, 'PendingDeletion', due);
  },

  CancelKeyDeletion(vault, req, ctx) {
    const check = (k: KeyRow): void => {
      if (k.key_state !== 'PendingDeletion') throw invalidParameter('KeyId', `key ${k.key_id} is ${k.key_state}, not pending deletion`);
    };
    return transition(vault, req.KeyId, ctx, check, 'Enabled');
  },

  TagResource(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    return Promise.resolve({ response: {}, write: (db) => applyTags(db, currentKey(db, key.key_id).key_id, req.Tags) });
  },

  UntagResource(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    return Promise.resolve({
      response: {},
      write: (db) => {
        for (const tagKey of req.TagKeys) deleteTag(db, currentKey(db, key.key_id).key_id, tagKey);
      },
    });
  },

  ListResourceTags(vault, req, ctx) {
    const key = resolve(vault, req.KeyId, ctx);
    const tags = listTags(vault.store.db, key.key_id).map((t) => ({ KeyId: t.key_id, TagKey: t.tag_key, TagValue: t.tag_value }));
    return Promise.resolve({ response: { Tags: { Tag: tags } } });
  },
};

function aliasPage(rows: { alias_name: string; key_id: string }[], total: number, pageNumber: number, pageSize: number) {
  return {
    Aliases: { Alias: rows.map((a) => ({ KeyId: a.key_id, AliasName: a.alias_name, AliasArn: `${ARN_PREFIX}:${a.alias_name}` })) },
    TotalCount: total,
    PageNumber: pageNumber,
    PageSize: pageSize,
  };
}

