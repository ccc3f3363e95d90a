// Turning a failed schema check into the contract's errors: the first problem becomes
// MissingParameter or InvalidParameter naming the field. Shared by Actions and app methods.
import type { z } from 'zod';
import { KmsError, invalidParameter, missingParameter } from './errors.ts';

/** Validates `params` (a plain object) against `schema`; `label` names the call in messages. */
export function parseParams<S extends z.ZodType>(schema: S, label: string, params: unknown): z.output<S> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new KmsError('InvalidParameter', `${label}: parameters must be an object`);
  }
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.') || label;
  if (issue.code === 'unrecognized_keys') {
    throw invalidParameter(issue.keys.join(', '), `is not a parameter of ${label}`);
  }
  if (issue.path.length === 1 && (params as Record<string, unknown>)[String(issue.path[0])] === undefined) {
    throw missingParameter(field);
  }
  throw invalidParameter(field, issue.message);
}
