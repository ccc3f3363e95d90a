// EncryptionContext (Alibaba Cloud KMS's Encrypt, Decrypt, GenerateDataKey, ReEncrypt): a flat JSON
// object of string keys and string values that a symmetric ciphertext is bound to. It is never
// stored: it is authenticated as GCM associated data, so Decrypt must be given the same one.
// Both sides hash one canonical text, RFC 8785 (JCS) for a flat map of strings: members sorted by
// their keys' UTF-16 code units, each key and value written as JSON.stringify writes a string (which
// is JCS's string form), no whitespace. Absent and {} are the same context: "{}".
// Runtime-neutral: the renderer uses it too.
import { z } from 'zod';

export type EncryptionContext = Readonly<Record<string, string>>;

/** Alibaba's limit on the EncryptionContext parameter's JSON text. */
export const ENCRYPTION_CONTEXT_MAX_CHARS = 8192;

const contextObject = z.record(z.string(), z.string('must map each key to a string value'), 'must be a JSON object of string values');

/** The parameter: JSON text (Alibaba's form, and the SDK's) or an already-parsed object (JSON bodies, batch). */
export const encryptionContextParam = z
  .union([z.string().max(ENCRYPTION_CONTEXT_MAX_CHARS, `is longer than ${ENCRYPTION_CONTEXT_MAX_CHARS} characters`), z.record(z.string(), z.unknown())], 'must be a JSON object of string values')
  .transform((value, ctx): EncryptionContext => {
    let parsed: unknown = value;
    if (typeof value === 'string') {
      if (value.trim() === '') return {};
      try {
        parsed = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not valid JSON (a JSON object of string values, e.g. {"purpose":"backup"})' });
        return z.NEVER;
      }
    }
    const result = contextObject.safeParse(parsed);
    if (!result.success || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of string values, e.g. {"purpose":"backup"}' });
      return z.NEVER;
    }
    if (canonicalContext(result.data).length > ENCRYPTION_CONTEXT_MAX_CHARS) {
      ctx.addIssue({ code: 'custom', message: `is longer than ${ENCRYPTION_CONTEXT_MAX_CHARS} characters` });
      return z.NEVER;
    }
    return Object.freeze({ ...result.data });
  });

/** Sorts by UTF-16 code units (JCS), not by locale or code points. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical text authenticated with a ciphertext; `{}` for none. */
export function canonicalContext(context: EncryptionContext | undefined): string {
  if (context === undefined) return '{}';
  const keys = Object.keys(context).sort(byCodeUnits);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(context[k])}`).join(',')}}`;
}

/** The Actions' parameters that are flat maps of strings (an EncryptionContext). */
export const CONTEXT_PARAMETERS = ['EncryptionContext', 'SourceEncryptionContext', 'DestinationEncryptionContext'] as const;

/**
 * Alibaba's RPC clients of the 1.x line (@alicloud/kms20160120 1.x over @alicloud/rpc-client) send a
 * map parameter flattened, one form field per member: EncryptionContext.purpose=backup. Newer
 * clients send it as JSON text. This folds the flattened members into the JSON text the schema
 * takes; a request that sends both forms of one parameter keeps both (and is refused naming the
 * flattened ones). Other parameters pass as they are.
 */
export function foldContextParameters(params: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  const folded = new Map<string, Record<string, string>>();
  for (const [name, value] of Object.entries(params)) {
    const dot = name.indexOf('.');
    const base = dot > 0 ? name.slice(0, dot) : '';
    if (dot > 0 && (CONTEXT_PARAMETERS as readonly string[]).includes(base) && !Object.hasOwn(params, base)) {
      let members = folded.get(base);
      if (!members) folded.set(base, (members = {}));
      members[name.slice(dot + 1)] = value;
    } else {
      out[name] = value;
    }
  }
  for (const [base, members] of folded) out[base] = JSON.stringify(members);
  return out;
}
