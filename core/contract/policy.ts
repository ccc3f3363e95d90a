// The policy of an API access key: which Actions it may call and on which keys. Runtime-neutral.
import { z } from 'zod';
import { isActionName, isLocalOnlyAction } from './actions.ts';
import { invalidParameter } from './errors.ts';
import { ALIAS_SOURCE, CONNECTION_NAME_SOURCE, UUID_SOURCE } from './ids.ts';

const keyPattern = z
  .string()
  .regex(
    new RegExp(`^(\\*|${ALIAS_SOURCE}|${UUID_SOURCE}|remote\\/${CONNECTION_NAME_SOURCE}\\/\\S{1,300})$`),
    'each key must be "*", a KeyId, alias/NAME or remote/CONNECTION/KeyId',
  );

export const policySchema = z.strictObject({
  Actions: z
    .array(
      z
        .string()
        .refine((a) => a === '*' || isActionName(a), 'each action must be "*" or an Action name')
        // The administration Actions are the vault owner's alone: no access key may be given them.
        .refine((a) => !isLocalOnlyAction(a), { error: (issue) => `${String(issue.input)} is a local-only DeskKMS Action: no access key may call it` }),
    )
    .min(1, 'Actions is empty'),
  Keys: z.array(keyPattern).min(1, 'Keys is empty'),
});
export type Policy = z.infer<typeof policySchema>;

export const FULL_ACCESS: Policy = { Actions: ['*'], Keys: ['*'] };

export function parsePolicy(value: unknown, parameter = 'Policy'): Policy {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw invalidParameter(parameter, 'is not valid JSON; e.g. {"Actions":["AsymmetricSign"],"Keys":["alias/release"]}');
    }
  }
  const result = policySchema.safeParse(parsed);
  if (!result.success) throw invalidParameter(parameter, result.error.issues[0]?.message ?? 'is malformed');
  return result.data;
}

/** Whether the policy grants the Action; "*" grants every Action except the local-only ones, which no policy grants. */
export function allowsAction(policy: Policy, action: string): boolean {
  if (isLocalOnlyAction(action)) return false;
  const granted: readonly string[] = policy.Actions;
  return granted.includes('*') || granted.includes(action);
}

/** Whether the policy covers a key, named by its KeyId or any of its aliases. */
export function allowsKey(policy: Policy, keyId: string, aliases: readonly string[]): boolean {
  return policy.Keys.some((k) => k === '*' || k === keyId || aliases.includes(k));
}

/** What a KeyId parameter names as written: alias/NAME or a KeyId (an ARN reduced to its alias/NAME or key/ID). */
export function keyReference(keyIdParam: string): { readonly kind: 'alias' | 'key'; readonly name: string } {
  const tail = /^acs:kms:[^:]*:[^:]*:(.+)$/.exec(keyIdParam)?.[1] ?? keyIdParam;
  if (tail.startsWith('alias/')) return { kind: 'alias', name: tail };
  return { kind: 'key', name: tail.startsWith('key/') ? tail.slice(4) : tail };
}

/** Whether the policy itself names this KeyId parameter (the UUID or alias written), whether or not such a key exists. */
export function namesKey(policy: Policy, keyIdParam: string): boolean {
  const { name } = keyReference(keyIdParam);
  return policy.Keys.some((k) => k === '*' || k === name);
}

export function restrictsKeys(policy: Policy): boolean {
  return !policy.Keys.includes('*');
}
