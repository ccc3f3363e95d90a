// The parameter table (core/contract/api-parameters.ts) against the request schemas, the official
// SDK's request models and the README: every documented parameter is taken (never "is not a
// parameter of"), each treatment holds (an accepted example parses, a refusal names its wire
// parameter), and the README shows the table as generated.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ACTION_SCHEMAS, parseRequest } from '../../core/contract/actions.ts';
import { ALIBABA_ACTIONS, API_PARAMETERS, apiParametersMarkdown, type ApiAction } from '../../core/contract/api-parameters.ts';
import { KmsError } from '../../core/contract/errors.ts';

const require = createRequire(import.meta.url);
// The official SDK (a real peer): its request models name the parameters its clients send.
const sdk = require('@alicloud/kms20160120') as Record<string, { names?: () => Record<string, string> } | undefined>;

const table = (action: (typeof ALIBABA_ACTIONS)[number]) => API_PARAMETERS[action] as ApiAction;
const shapeOf = (action: (typeof ALIBABA_ACTIONS)[number]) => Object.keys((ACTION_SCHEMAS[action] as z.ZodObject).shape);

/** Every parameter of the Action with its accepted example (a refused parameter's '' means absent). */
function acceptedRequest(action: (typeof ALIBABA_ACTIONS)[number]): Record<string, string> {
  return Object.fromEntries(Object.entries(table(action).parameters).map(([name, p]) => [name, p.accepts]));
}

function refusal(action: (typeof ALIBABA_ACTIONS)[number], params: Record<string, string>): KmsError {
  try {
    parseRequest(action, params);
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw error;
  }
  throw new Error(`${action} accepted ${JSON.stringify(params)}`);
}

describe('the Alibaba parameter table', () => {
  it('covers the Actions it should, each with a reference page of API 2016-01-20', () => {
    expect(ALIBABA_ACTIONS).toHaveLength(35);
    for (const action of ALIBABA_ACTIONS) {
      expect(table(action).reference).toBe(
        `https://www.alibabacloud.com/help/en/kms/key-management-service/developer-reference/api-kms-2016-01-20-${action.toLowerCase()}`,
      );
    }
  });

  it.each(ALIBABA_ACTIONS)('%s: the schema takes exactly the parameters of the table', (action) => {
    expect(shapeOf(action).sort()).toEqual(Object.keys(table(action).parameters).sort());
  });

  it.each(ALIBABA_ACTIONS)('%s: every accepted example parses, all of them in one request', (action) => {
    expect(() => parseRequest(action, acceptedRequest(action))).not.toThrow();
  });

  it.each(ALIBABA_ACTIONS)('%s: each refused value is InvalidParameter naming its wire parameter', (action) => {
    for (const [name, p] of Object.entries(table(action).parameters)) {
      if (p.treatment === 'limited' || p.treatment === 'refused') expect(p.refuses, `${action}.${name} needs a refused example`).toBeDefined();
      if (p.refuses === undefined) continue;
      const error = refusal(action, { ...acceptedRequest(action), [name]: p.refuses });
      expect(error.code, `${action}.${name}=${p.refuses}: ${error.message}`).toBe('InvalidParameter');
      expect(error.message.startsWith(`${name}: `), `${action}.${name}: ${error.message}`).toBe(true);
      expect(error.message).not.toMatch(/is not a parameter of/);
    }
  });

  it('refuses a parameter no reference documents, naming it', () => {
    const error = refusal('ListKeys', { Filter: '[]' });
    expect(error.message).toBe('Filter: is not a parameter of ListKeys');
  });

  it('names SecretName, not KeyId, when a tag call names a secret instead of a key', () => {
    for (const action of ['TagResource', 'UntagResource'] as const) {
      const params: Record<string, string> =
        action === 'TagResource' ? { SecretName: 'db', Tags: '[{"TagKey":"a","TagValue":"b"}]' } : { SecretName: 'db', TagKeys: '["a"]' };
      expect(refusal(action, params).message).toMatch(/^SecretName: this vault holds no secrets/);
    }
  });
});

describe('the official SDK @alicloud/kms20160120 1.2.0', () => {
  it('is the version whose models are checked', () => {
    expect((require('@alicloud/kms20160120/package.json') as { version: string }).version).toBe('1.2.0');
  });

  /** Actions newer than SDK 1.2.0 (driven through @alicloud/openapi-client in api-envelope-sdk.test.ts). */
  const NOT_IN_SDK_1_2 = ['ReEncrypt', 'GenerateAndExportDataKey', 'ExportDataKey'];

  it('lacks exactly the Actions newer than it', () => {
    expect(ALIBABA_ACTIONS.filter((a) => sdk[`${a}Request`] === undefined)).toEqual(NOT_IN_SDK_1_2);
  });

  it.each(ALIBABA_ACTIONS.filter((a) => !NOT_IN_SDK_1_2.includes(a)))('%s: every field of its request model is in the table and the schema', (action) => {
    const model = sdk[`${action}Request`];
    expect(model?.names, `${action}Request in the SDK`).toBeTypeOf('function');
    const wire = Object.values(model!.names!());
    expect(wire.length).toBeGreaterThan(0);
    for (const name of wire) {
      expect(Object.keys(table(action).parameters), `${action}.${name}`).toContain(name);
      expect(shapeOf(action), `${action}.${name}`).toContain(name);
    }
  });
});

describe('the README', () => {
  it('shows the table as apiParametersMarkdown() makes it, between its markers', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const match = /<!-- api-parameters:start[^>]*-->\n([\s\S]*?)<!-- api-parameters:end -->/.exec(readme);
    expect(match, 'README.md has <!-- api-parameters:start --> ... <!-- api-parameters:end -->').not.toBeNull();
    expect(match![1]).toBe(apiParametersMarkdown());
  });
});
