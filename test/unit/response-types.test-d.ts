// Type tests, checked by tsc (the test project) and not run by vitest: a handler whose response
// drifts from its Action's response schema (core/contract/responses.ts) does not compile. Each
// expect-error directive below must meet its error, or tsc fails on the unused directive; the
// controls without one must compile. A field added beside the schema's fields is not a type
// error where the literal is not checked for excess properties (an arrow's inferred return):
// the strict schemas catch it at run time (test/unit/responses.test.ts).
import { dispatch } from '../../core/actions/dispatch.ts';
import type { Handler, HandlerResult } from '../../core/actions/operation.ts';
import type { ActionName } from '../../core/contract/actions.ts';
import type { Vault } from '../../core/vault/vault.ts';

const ref = { KeyId: '7ec2b2e8-0a5c-4f49-8d3b-5b1a3b0f1c11', KeyVersionId: '0bd3e1a4-35b4-4d7a-9a43-5d8c6f5e2a10' };

// Control: the schema's fields, with their types.
export const verifies: Handler<'AsymmetricVerify'> = () => Promise.resolve({ response: { ...ref, Value: true } });

// A field the schema does not have (Valid for Value).
export const renamedField: Handler<'AsymmetricVerify'> = () =>
  // @ts-expect-error Valid is not in AsymmetricVerify's response, and Value is missing
  Promise.resolve({ response: { ...ref, Valid: true } });

// A field of the wrong type (Value is a boolean).
export const mistypedField: Handler<'AsymmetricVerify'> = () =>
  // @ts-expect-error Value: string is not boolean
  Promise.resolve({ response: { ...ref, Value: 'true' } });

// An empty answer where the schema has none of the fields, and a field where it has none.
export const emptyForDescribe: Handler<'DescribeKey'> = () =>
  // @ts-expect-error DescribeKey answers KeyMetadata
  Promise.resolve({ response: {} });
export const fieldForEnable = async (): Promise<HandlerResult<'EnableKey'>> => {
  await Promise.resolve();
  // @ts-expect-error EnableKey answers nothing but its RequestId
  return { response: { KeyId: ref.KeyId } };
};

// Another Action's result, or "some Action's" result, is not this Action's.
declare const enabled: HandlerResult<'EnableKey'>;
declare const someAction: HandlerResult<ActionName>;
// @ts-expect-error EnableKey's result has no KeyMetadata
export const wrongAction: HandlerResult<'DescribeKey'> = enabled;
// @ts-expect-error the union of every Action's response is not DescribeKey's
export const anyAction: HandlerResult<'DescribeKey'> = someAction;
// Control: one Action's result is "some Action's" result.
export const widened: HandlerResult = enabled;

// dispatch answers a call named in code with its Action's response type; transports that pass on
// what they received (an unknown Action) get a plain record.
declare const vault: Vault;
export async function typedDispatch(): Promise<string> {
  const described = await dispatch(vault, 'DescribeKey', { KeyId: ref.KeyId }, 'test');
  if (!described.ok) return described.error.Code;
  // @ts-expect-error DescribeKey answers KeyMetadata, not Metadata
  void described.body.Metadata;
  const received = await dispatch(vault, 'DescribeKey' as string, {}, 'test');
  return received.ok ? String(received.body.Anything) + described.body.KeyMetadata.KeyState : received.error.Code;
}
