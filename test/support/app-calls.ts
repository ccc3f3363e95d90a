// Calls into an AppSession as the renderer makes them, for the tests of core/app: the value of a
// call that must succeed, or the refusal of one that must fail (its Code and Message).
import type { AppResult } from '../../core/contract/app-api.ts';

interface Callable {
  call(request: unknown): Promise<AppResult<unknown>>;
}

export interface AppCalls {
  /** The call's value; a refusal fails the test with its Code and Message. */
  readonly value: <T = any>(method: string, params?: unknown) => Promise<T>;
  /** The call's refusal; a success fails the test with (the start of) its value. */
  readonly refusal: (method: string, params: unknown) => Promise<{ Code: string; Message: string }>;
}

/** `session()` gives the AppSession in use (tests create it in beforeAll). */
export function appCalls(session: () => Callable): AppCalls {
  return {
    value: async <T = any>(method: string, params: unknown = {}): Promise<T> => {
      const result = (await session().call({ method, params })) as AppResult<T>;
      if (!result.ok) throw new Error(`${method}: ${result.error.Code}: ${result.error.Message}`);
      return result.value;
    },
    refusal: async (method: string, params: unknown) => {
      const result = await session().call({ method, params });
      if (result.ok) throw new Error(`${method} was not refused: ${JSON.stringify(result.value).slice(0, 300)}`);
      return result.error;
    },
  };
}
