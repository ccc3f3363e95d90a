// How the CLI prints a failure: {"Code","Message"} on stderr, never a stack trace. A bug
// (anything that is not a KmsError) is InternalFailure; its one-line detail goes to stderr before
// the JSON so that a report can quote it, and its stack only with DESKKMS_DEBUG=1.
import { KmsError, toKmsError } from '../../contract/errors.ts';
import type { CliIO } from './command.ts';

const MAX_DETAIL = 2000;

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL)}...` : line;
}

/** The KmsError the CLI reports for `error`, having written a bug's detail to stderr. */
export function reportedError(io: CliIO, error: unknown): KmsError {
  if (error instanceof KmsError) return error;
  const debug = io.env.DESKKMS_DEBUG === '1';
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  io.stderr.write(`deskkms: internal failure: ${oneLine(detail)}\n`);
  if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return toKmsError(error, debug ? 'and stack on stderr above' : 'on stderr above; DESKKMS_DEBUG=1 adds the stack');
}

/**
 * For dispatch's onInternalError: a bug inside a call, its one-line detail on stderr under the
 * call's RequestId (its answer says where to look), its stack with DESKKMS_DEBUG=1.
 */
export function internalErrorReporter(io: CliIO): (action: string, requestId: string, error: unknown) => void {
  return (action, requestId, error) => {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    io.stderr.write(`deskkms: internal failure in ${action} (RequestId ${requestId}): ${oneLine(detail)}\n`);
    if (io.env.DESKKMS_DEBUG === '1' && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  };
}

/** Writes {"Code","Message"} (plus `extra` fields) for `error` on stderr. */
export function writeFailure(io: CliIO, error: unknown, extra: Readonly<Record<string, string>> = {}): void {
  io.stderr.write(`${JSON.stringify({ ...reportedError(io, error).toWire(), ...extra })}\n`);
}
