import { KmsError } from '../../core/contract/errors.ts';

/** The KmsError a promise rejects with; anything else (success, another error type) fails the test. */
export async function rejection(promise: Promise<unknown>, what = 'a rejection'): Promise<KmsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw new Error(`expected a KmsError, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected ${what}`);
}
