// Turning a failed schema check into the contract's errors: the first problem becomes
// MissingParameter or InvalidParameter naming the field. Shared by Actions and app methods.
import type { z } from 'zod';
import { KmsError, invalidParameter, missingParameter } from './errors.ts';
import { escapeText } from './escape-text.ts';

/** Validates `params` (a plain object) against `schema`; `label` names the call in messages. */
export function parseParams<S extends z.ZodType>(schema: S, label: string, params: unknown): z.output<S> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new KmsError('InvalidParameter', `${label}: parameters must be an object`);
  }
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // Names can be a caller's own (unknown keys, keys of a record): escaped, as they reach messages.
  const field = escapeText(issue.path.map(String).join('.'), 128) || label;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.slice(0, 5).map((key) => escapeText(key, 64));
    throw invalidParameter(`${keys.join(', ')}${issue.keys.length > 5 ? `, ... (${issue.keys.length} in all)` : ''}`, `is not a parameter of ${label}`);
  }
  if (issue.path.length === 1 && (params as Record<string, unknown>)[String(issue.path[0])] === undefined) {
    throw missingParameter(field);
  }
  throw invalidParameter(field, issue.message);
}
