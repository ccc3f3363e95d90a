// The constant-time inversion mod n of P-256 (p256-inverse.wat): the committed bytes are the
// source's, the source keeps its constant-time rules, and it inverts every value it is given.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { p256 } from '@noble/curves/nist.js';
import { compileP256Inverse, p256InverseModuleText, p256InverseSource } from '../../build/p256-inverse.ts';
import { P256_INVERSE_WASM } from './p256-inverse-wasm.ts';
import { instantiateP256Inverse, invertModN, wasmInverseAvailable } from './p256-inverse.ts';
import { euclidInverse } from './p256-sign.ts';

const N = p256.Point.CURVE().n;

// ---- a small reader of WebAssembly text: s-expressions, strings and ;; comments
type Sexp = string | Sexp[];

function parseWat(text: string): Sexp[] {
  const tokens = text.replace(/;;[^\n]*/g, '').match(/"(?:[^"\\]|\\.)*"|[()]|[^\s()"]+/g) ?? [];
  const stack: Sexp[][] = [[]];
  for (const token of tokens) {
    if (token === '(') stack.push([]);
    else if (token === ')') {
      const done = stack.pop()!;
      stack.at(-1)!.push(done);
    } else stack.at(-1)!.push(token);
  }
  expect(stack).toHaveLength(1);
  return stack[0]!;
}

function* nodes(tree: Sexp): Generator<Sexp[]> {
  if (typeof tree === 'string') return;
  yield tree;
  for (const child of tree) yield* nodes(child);
}

const head = (node: Sexp[]): string => (typeof node[0] === 'string' ? node[0] : '');
const lists = (node: Sexp[]): Sexp[][] => node.filter((c): c is Sexp[] => typeof c !== 'string');

const isCounter = (name: string): boolean => /^\$[ij]/.test(name);
const isPointer = (name: string): boolean => /^\$(p[a-z]+|src|dst)$/.test(name);
/** Locals an address may be computed from: counters, pointers, and $bit/$at (checked below). */
const isAddressPart = (name: string): boolean => isCounter(name) || isPointer(name) || name === '$bit' || name === '$at';
const ADDRESS_OPS = new Set(['i32.const', 'local.get', 'i32.add', 'i32.sub', 'i32.mul', 'i32.shl', 'i32.shr_u', 'i32.and']);

/** Why `expr` is not made of `allowed` locals and address arithmetic, or undefined when it is. */
function offence(expr: Sexp, allowed: (name: string) => boolean, ops = ADDRESS_OPS): string | undefined {
  for (const node of nodes(expr)) {
    const op = head(node);
    if (!ops.has(op)) return `uses ${op}`;
    if (op === 'local.get' && !allowed(String(node[1]))) return `reads ${String(node[1])}`;
  }
  return undefined;
}

describe('the P-256 inversion module', () => {
  const source = p256InverseSource();
  const tree = parseWat(source);
  const module = tree.find((n): n is Sexp[] => typeof n !== 'string' && head(n) === 'module')!;
  const funcs = lists(module).filter((n) => head(n) === 'func');

  it('is the compiled source: p256-inverse-wasm.ts is what build/p256-inverse.ts writes from the .wat today', async () => {
    const binary = await compileP256Inverse();
    expect(Buffer.from(P256_INVERSE_WASM, 'base64').equals(Buffer.from(binary))).toBe(true);
    // and the file is the generator's text, byte for byte
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(new URL('./p256-inverse-wasm.ts', import.meta.url), 'utf8')).toBe(p256InverseModuleText(binary));
  });

  it('has no branch but counted loops, no division, and no address taken from a value', () => {
    expect(funcs.length).toBeGreaterThan(5);
    const forbidden = /^(if|select|br|br_table|return|call_indirect|i32\.div_[su]|i64\.div_[su]|i32\.rem_[su]|i64\.rem_[su]|memory\.grow)$/;
    let loops = 0;
    let accesses = 0;
    const pointerParams = new Map<string, boolean[]>();
    for (const func of funcs) {
      const name = String(func[1]);
      const params = lists(func).filter((n) => head(n) === 'param');
      pointerParams.set(name, params.map((p) => isPointer(String(p[1]))));
      for (const node of nodes(func)) {
        const op = head(node);
        expect(op, `${name}: ${op}`).not.toMatch(forbidden);
        if (op === 'br_if') {
          loops++;
          // (br_if $label condition): the condition reads counters and constants only
          expect(offence(lists(node)[0]!, isCounter, new Set(['i32.const', 'local.get', 'i32.lt_u'])), `${name}: br_if`).toBeUndefined();
        }
        if (/^i(32|64)\.(load|store)/.test(op)) {
          accesses++;
          expect(offence(lists(node)[0]!, isAddressPart), `${name}: ${op} address`).toBeUndefined();
        }
        if (op === 'local.set' || op === 'local.tee') {
          const target = String(node[1]);
          expect(isPointer(target), `${name} assigns its pointer ${target}`).toBe(false);
          if (target === '$bit' || target === '$at') expect(offence(lists(node)[0]!, isAddressPart), `${name}: ${target}`).toBeUndefined();
          if (isCounter(target)) expect(offence(lists(node)[0]!, isCounter), `${name}: ${target}`).toBeUndefined();
        }
      }
    }
    // each loop is closed by one br_if, and there is no other
    expect(loops).toBe(Array.from(nodes(module)).filter((n) => head(n) === 'loop').length);
    expect(loops).toBeGreaterThanOrEqual(10);
    expect(accesses).toBeGreaterThan(30);
    // Every pointer argument is a constant or the caller's own pointer.
    let calls = 0;
    for (const node of nodes(module)) {
      if (head(node) !== 'call') continue;
      calls++;
      const pointers = pointerParams.get(String(node[1]))!;
      lists(node).forEach((arg, i) => {
        if (pointers[i]) expect(offence(arg, isPointer, new Set(['i32.const', 'local.get'])), `call ${String(node[1])} argument ${i}`).toBeUndefined();
      });
    }
    expect(calls).toBeGreaterThan(10);
  });

  it('the rules above catch a branch on a value and an address taken from memory', () => {
    // The same checks, on two one-line modules that break them.
    const branchy = parseWat('(module (func $f (param $g i32) (loop $l (br_if $l (local.get $g)))))');
    const cond = lists(Array.from(nodes(branchy)).find((n) => head(n) === 'br_if')!)[0]!;
    expect(offence(cond, isCounter, new Set(['i32.const', 'local.get', 'i32.lt_u']))).toBe('reads $g');
    const lookup = parseWat('(module (func $f (param $pa i32) (drop (i32.load (i32.load (local.get $pa))))))');
    const load = Array.from(nodes(lookup)).find((n) => head(n) === 'i32.load')!;
    expect(offence(lists(load)[0]!, isAddressPart)).toBe('uses i32.load');
  });

  it('runs here, and inverts edge values and 20,000 random values as Euclid does', () => {
    expect(wasmInverseAvailable()).toBe(true);
    const values = [1n, 2n, 3n, N - 1n, N - 2n, (N + 1n) / 2n, N >> 1n, (1n << 128n) - 1n, 0xffffffffn];
    for (let bit = 0n; bit < 256n; bit++) if (1n << bit < N) values.push(1n << bit, (1n << bit) + 1n);
    for (let i = 0; i < 20_000; i++) values.push((bytesToNumberBE(randomBytes(32)) % (N - 1n)) + 1n);
    for (const a of values) {
      const inverse = invertModN(a)!;
      expect(inverse, a.toString(16)).toBe(euclidInverse(a));
    }
  });

  it('refuses 0 and n (no inverse), and wipes its memory after each call', () => {
    expect(() => invertModN(0n)).toThrow(RangeError);
    expect(() => invertModN(N)).toThrow(RangeError);
    // A second instance of the same bytes: after invert() the input and result sit in memory,
    // after wipe() nothing of them does.
    const { bytes, invert, wipe } = instantiateP256Inverse();
    bytes.set(randomBytes(31), 0);
    invert();
    expect(bytes.subarray(48, 80).some((b) => b !== 0)).toBe(true);
    wipe();
    expect(bytes.subarray(0, 512).every((b) => b === 0)).toBe(true);
    // n itself (the data segment) stays, so the next call still works
    bytes[0] = 2;
    invert();
    const half = BigInt(`0x${Buffer.from(bytes.subarray(48, 80)).reverse().toString('hex')}`);
    expect((2n * half) % N).toBe(1n);
  });
});
