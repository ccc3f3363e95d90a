// The constant-time arithmetic mod n of P-256 (p256-inverse.wat): the committed bytes are the
// source's, the compiled module keeps its constant-time rules, it inverts every value given, and
// its signature scalars are BigInt's.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import wabt from 'wabt';
import { describe, expect, it } from 'vitest';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { p256 } from '@noble/curves/nist.js';
import { compileP256Inverse, p256InverseModuleText, p256InverseSource } from '../../build/p256-inverse.ts';
import { P256_INVERSE_WASM } from './p256-inverse-wasm.ts';
import { MAX_SIGNATURE_JOBS, instantiateP256Inverse, invertModN, signatureScalars, wasmInverseAvailable } from './p256-inverse.ts';
import { euclidInverse, scalarsByBigint } from './p256-sign.ts';

const N = p256.Point.CURVE().n;

// ---- the constant-time rules, checked on what runs: the binary wabt makes of a source, printed
// back by wabt as folded s-expressions (so a source in flat form, or code hidden in a comment or
// a string, is checked as what it compiles to).
type Sexp = string | Sexp[];

function parseSexp(text: string): Sexp[] {
  const tokens = text.replace(/\(;[^]*?;\)/g, ' ').replace(/;;[^\n]*/g, '').match(/"(?:[^"\\]|\\.)*"|[()]|[^\s()"]+/g) ?? [];
  const stack: Sexp[][] = [[]];
  for (const token of tokens) {
    if (token === '(') stack.push([]);
    else if (token === ')') {
      const done = stack.pop()!;
      stack.at(-1)!.push(done);
    } else stack.at(-1)!.push(token);
  }
  if (stack.length !== 1) throw new Error('unbalanced parentheses');
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
const COUNTER_OPS = new Set(['i32.const', 'local.get', 'i32.add', 'i32.sub', 'i32.lt_u']);
const ARGUMENT_OPS = new Set(['i32.const', 'local.get']);
const FORBIDDEN = /^(if|select|br|br_table|return|return_call\S*|call_indirect|call_ref|[if](32|64)\.(div|rem)_[su]|f(32|64)\..*|v128\..*|[a-z0-9]+x[0-9]+\..*|memory\.(grow|fill|copy|init)|data\.drop|table\..*|try|throw|rethrow|unreachable)$/;
/** A string that is an instruction, not a name, a number, a type or an immediate (`offset=8`). */
const INSTRUCTION = /^([a-z][a-z0-9_]*\.[a-z0-9_.]+|if|else|end|then|select|br|br_if|br_table|return|call|call_indirect|drop|nop|unreachable|loop|block)$/;

/** Why `expr` is not made of `allowed` locals and `ops`, or undefined when it is. */
function offence(expr: Sexp, allowed: (name: string) => boolean, ops: Set<string>): string | undefined {
  for (const node of nodes(expr)) {
    const op = head(node);
    if (!ops.has(op)) return `uses ${op}`;
    if (op === 'local.get' && !allowed(String(node[1]))) return `reads ${String(node[1])}`;
  }
  return undefined;
}

/** wabt's folded text of the binary a source compiles to, with its local names. */
async function foldedText(source: string): Promise<string> {
  const read = (await wabt()).readWasm(await compileP256Inverse(source, true), { readDebugNames: true });
  read.applyNames();
  const text = read.toText({ foldExprs: true, inlineExport: false });
  read.destroy();
  return text;
}

interface RuleReport {
  offences: string[];
  loops: number;
  closingBranches: number;
  accesses: number;
  calls: number;
}

/**
 * The constant-time rules of p256-inverse.wat, on the compiled module: no branch but counted
 * loops, no division or float, no address or loop length taken from a value.
 */
async function constantTimeRules(source: string): Promise<RuleReport> {
  const [module] = parseSexp(await foldedText(source)).filter((n): n is Sexp[] => typeof n !== 'string');
  const report: RuleReport = { offences: [], loops: 0, closingBranches: 0, accesses: 0, calls: 0 };
  const fail = (where: string, why: string | undefined): void => {
    if (why !== undefined) report.offences.push(`${where}: ${why}`);
  };
  const funcs = lists(module!).filter((n) => head(n) === 'func');
  const paramsOf = new Map(funcs.map((f) => [String(f[1]), lists(f).filter((n) => head(n) === 'param').map((p) => String(p[1]))]));
  for (const func of funcs) {
    const name = String(func[1]);
    for (const node of nodes(func)) {
      const op = head(node);
      if (FORBIDDEN.test(op)) fail(name, `has ${op}`);
      for (const child of node.slice(1)) if (typeof child === 'string' && INSTRUCTION.test(child)) fail(name, `has ${child} unfolded`);
      if (op === 'loop') report.loops++;
      if (op === 'br_if') {
        report.closingBranches++;
        fail(`${name} br_if`, offence(lists(node)[0]!, isCounter, COUNTER_OPS));
      }
      if (/\.(load|store)/.test(op)) {
        report.accesses++;
        fail(`${name} ${op} address`, offence(lists(node)[0]!, isAddressPart, ADDRESS_OPS));
      }
      if (op === 'local.set' || op === 'local.tee') {
        const target = String(node[1]);
        if (isPointer(target)) fail(name, `assigns its pointer ${target}`);
        if (target === '$bit' || target === '$at') fail(`${name} ${target}`, offence(lists(node)[0]!, isAddressPart, ADDRESS_OPS));
        if (isCounter(target)) fail(`${name} ${target}`, offence(lists(node)[0]!, isCounter, COUNTER_OPS));
      }
      if (op === 'call') {
        report.calls++;
        const callee = String(node[1]);
        // A pointer or counter parameter gets a constant, or the caller's own pointer or counter.
        lists(node).forEach((argument, i) => {
          const param = paramsOf.get(callee)?.[i] ?? '';
          if (isPointer(param)) fail(`call ${callee} ${param}`, offence(argument, isPointer, ARGUMENT_OPS));
          if (isCounter(param)) fail(`call ${callee} ${param}`, offence(argument, isCounter, ARGUMENT_OPS));
        });
      }
    }
  }
  return report;
}

describe('the P-256 inversion module', () => {
  const source = p256InverseSource();

  it('is the compiled source: p256-inverse-wasm.ts is what build/p256-inverse.ts writes from the .wat today', async () => {
    const binary = await compileP256Inverse();
    expect(Buffer.from(P256_INVERSE_WASM, 'base64').equals(Buffer.from(binary))).toBe(true);
    // and the file is the generator's text, byte for byte
    expect(readFileSync(new URL('./p256-inverse-wasm.ts', import.meta.url), 'utf8')).toBe(p256InverseModuleText(binary));
  });

  it('compiles to no branch but counted loops, no division, and no address or loop length taken from a value', async () => {
    const report = await constantTimeRules(source);
    expect(report.offences).toEqual([]);
    // each loop is closed by one br_if, and there is no other branch
    expect(report.closingBranches).toBe(report.loops);
    expect(report.loops).toBeGreaterThanOrEqual(10);
    expect(report.accesses).toBeGreaterThan(30);
    expect(report.calls).toBeGreaterThan(10);
  });

  it('the rules catch what would break them, written folded or flat', async () => {
    const module = (body: string): string => `(module (memory 1) (func $zero (param $pa i32) (param $jEnd i32)) (func $f (param $pa i32) (param $g i32) (local $j i32) ${body}))`;
    const offences = async (body: string): Promise<string[]> => (await constantTimeRules(module(body))).offences;
    // a branch on a value, folded and flat
    expect(await offences('(loop $l (br_if $l (local.get $g)))')).toEqual(['$f br_if: reads $g']);
    expect(await offences('local.get $g i32.const 1 i32.and if nop end')).toEqual(['$f: has if']);
    // a select on a value, flat
    expect(await offences('i32.const 1 i32.const 2 local.get $g select drop')).toEqual(['$f: has select']);
    // an address taken from memory, and one from a value, flat
    expect(await offences('(drop (i32.load (i32.load (local.get $pa))))')).toEqual(['$f i32.load address: uses i32.load']);
    expect(await offences('local.get $g f64.load drop')).toEqual(['$f: has f64.load', '$f f64.load address: reads $g']);
    // a loop whose length comes from memory through a counter parameter
    expect(await offences('(call $zero (i32.const 176) (i32.load (i32.const 136)))')).toEqual(['call $zero $jEnd: uses i32.load']);
    // a counter set from a value; a division
    expect(await offences('(local.set $j (local.get $g))')).toEqual(['$f $j: reads $g']);
    expect(await offences('(drop (i32.div_u (local.get $g) (i32.const 3)))')).toEqual(['$f: has i32.div_u']);
    // what a comment hides is not compiled, so it cannot break anything
    expect(await offences(';; (drop (i32.div_u (local.get $g) (i32.const 3)))\n nop')).toEqual([]);
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

  // The inversion keeps its cofactors d, e in (-2n, n) between rounds and reduces them once at the
  // end. Random inputs never come near those bounds (the matrices divsteps make are far below
  // their limit), so the bounds are held here on the two steps themselves, through exports a
  // module built for this test adds, with the largest matrices allowed and cofactors at the edges.
  it('keeps the cofactors in (-2n, n) for any round matrix, and reduces them from there, at the edges', async () => {
    const harness = `
      (func (export "updateDe") (param $a i32) (param $b i32) (param $c i32) (param $d i32)
        (call $toLimbs (i32.const 512) (i32.const 256))
        (global.set $u (local.get $a)) (global.set $v (local.get $b)) (global.set $q (local.get $c)) (global.set $r (local.get $d))
        (call $updateDe (i32.const 176) (i32.const 216)))
      (func (export "finish") (param $negate i32)
        (call $toLimbs (i32.const 512) (i32.const 256))
        (call $finish (local.get $negate)))`;
    // (n as limbs, at 256, is written by invert and sign before use; the exports do it too)
    const text = source.slice(0, source.lastIndexOf(')')) + harness + ')';
    const { bytes, exports } = instantiateP256Inverse(await compileP256Inverse(text));
    const memory = new DataView(bytes.buffer);
    const updateDe = exports.updateDe as (u: number, v: number, q: number, r: number) => void;
    const finish = exports.finish as (negate: number) => void;
    const M30 = (1n << 30n) - 1n;
    const putLimbs = (at: number, value: bigint): void => {
      for (let j = 0; j < 8; j++) memory.setInt32(at + 4 * j, Number((value >> BigInt(30 * j)) & M30), true);
      memory.setInt32(at + 32, Number(value >> 240n), true);
    };
    const getLimbs = (at: number): bigint => {
      let value = BigInt(memory.getInt32(at + 32, true)) << 240n;
      for (let j = 0; j < 8; j++) {
        const limb = memory.getInt32(at + 4 * j, true);
        expect(limb >= 0 && limb < 2 ** 30, `limb ${j}`).toBe(true);
        value += BigInt(limb) << BigInt(30 * j);
      }
      return value;
    };
    const mod = (a: bigint): bigint => ((a % N) + N) % N;
    const inverse2to30 = euclidInverse(1n << 30n);
    const randomIn = (low: bigint, high: bigint): bigint => low + (bytesToNumberBE(randomBytes(40)) % (high - low));
    const cofactors = [-2n * N + 1n, -2n * N + 2n, -N - 1n, -N, -N + 1n, -1n, 0n, 1n, N - 2n, N - 1n];
    for (let i = 0; i < 40; i++) cofactors.push(randomIn(-2n * N + 1n, N));
    // rows (u, v) with |u| + |v| = 2^30, the most 30 divsteps can make, and a few below
    const B = 2 ** 30;
    const rows: [number, number][] = [[B, 0], [-B, 0], [0, B], [0, -B], [B / 2, B / 2], [-B / 2, -B / 2], [B / 2, -B / 2], [-B / 2, B / 2], [B - 1, 1], [-B + 1, -1], [1, 0], [0, 0]];
    for (let i = 0; i < 20; i++) {
      const u = Math.floor(Math.random() * (2 * B + 1)) - B;
      rows.push([u, (Math.random() < 0.5 ? -1 : 1) * (B - Math.abs(u))]);
    }
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const [d, e] = [cofactors[i % cofactors.length]!, cofactors[(i * 7 + 3) % cofactors.length]!];
      const [u, v] = rows[i % rows.length]!;
      const [q, r] = rows[(i * 5 + 1) % rows.length]!;
      putLimbs(176, d);
      putLimbs(216, e);
      updateDe(u, v, q, r);
      for (const [at, a, b] of [[176, u, v], [216, q, r]] as const) {
        const out = getLimbs(at);
        expect(out > -2n * N && out < N, `${d} ${e} ${a} ${b}: ${out}`).toBe(true);
        expect(mod(out), `${d} ${e} ${a} ${b}`).toBe(mod((BigInt(a) * d + BigInt(b) * e) * inverse2to30));
      }
      checked++;
    }
    expect(checked).toBe(3000);
    // the end: D in (-2n, n) to D or -D mod n, in [0, n), as little-endian bytes at OUT (48)
    for (const d of cofactors) {
      for (const negate of [0, -1]) {
        putLimbs(176, d);
        finish(negate);
        const out = bytesToNumberBE(new Uint8Array(memory.buffer, 48, 32).slice().reverse());
        expect(out, `${d} ${negate}`).toBe(mod(negate ? -d : d));
      }
    }
  });

  it('computes s = k^-1 (e + x d) mod n for groups of 1 to 64 as BigInt does, edge values included', () => {
    const be = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
    const kEdges = [1n, 2n, N - 1n, N - 2n, 1n << 255n];
    const edges = [0n, 1n, N - 1n, N, N + 1n, (1n << 256n) - 1n];
    const pick = (list: readonly bigint[], i: number): bigint => list[i % list.length]!;
    let checked = 0;
    for (let count = 1; count <= MAX_SIGNATURE_JOBS; count += count < 8 ? 1 : 7) {
      for (let round = 0; round < 3; round++) {
        const jobs = Array.from({ length: count }, (_, i) => {
          const edge = round === 0;
          return {
            k: be(edge ? pick(kEdges, i) : (bytesToNumberBE(randomBytes(32)) % (N - 1n)) + 1n),
            x: edge ? be(pick(edges, i)) : randomBytes(32),
            e: edge ? be(pick(edges, i + 1)) : randomBytes(32),
            d: edge ? be(pick(edges, i + 2)) : randomBytes(32),
          };
        });
        const ours = signatureScalars(jobs, randomBytes(32))!;
        const theirs = scalarsByBigint(jobs, randomBytes(40));
        jobs.forEach((job, i) => {
          const [k, x, e, d] = [job.k, job.x, job.e, job.d].map(bytesToNumberBE) as [bigint, bigint, bigint, bigint];
          const want = (euclidInverse(k) * ((e + x * d) % N)) % N;
          expect(bytesToNumberBE(ours[i]!), `${count} ${round} ${i}`).toBe(want);
          expect(theirs[i]).toBe(want);
          checked++;
        });
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('checks each s it writes: modules built with a fault in s, x·d or the prefix products answer 0, not a wrong s', async () => {
    const faults: [string, string][] = [
      ['(call $add (i32.const 984) (i32.const 944) (i32.const 984))      ;; e_i + x_i * d_i', ''],
      ['(call $mont (i32.const 984) (i32.const 944) (i32.const 944))     ;; x_i * d_i mod n', '(call $mont (i32.const 984) (i32.const 600) (i32.const 944))'],
      ['(call $mont (i32.const 704) (i32.const 744) (i32.const 704))     ;; W0 = P_i', '(call $mont (i32.const 704) (i32.const 704) (i32.const 704))'],
    ];
    const jobs = Buffer.concat(
      Array.from({ length: 3 }, () => {
        const k = randomBytes(32);
        k[0] = 0x7f; // below n
        return Buffer.concat([k, randomBytes(96)]);
      }),
    );
    const signWith = async (text: string): Promise<number> => {
      const { bytes, sign } = instantiateP256Inverse(await compileP256Inverse(text));
      for (let i = 0; i < 3; i++) bytes.set(jobs.subarray(128 * i, 128 * (i + 1)), 4096 + 160 * i);
      bytes.set(randomBytes(32), 3456);
      return sign(3);
    };
    expect(await signWith(source)).toBe(1);
    for (const [from, to] of faults) {
      expect(source).toContain(from);
      expect(await signWith(source.replace(from, to)), from).toBe(0);
    }
  });

  it('refuses to give s when its inversion fails its check (a zero blinding factor), and wipes what it was given', () => {
    const job = { k: randomBytes(32), x: randomBytes(32), e: randomBytes(32), d: randomBytes(32) };
    job.k[0] = 0x7f; // below n
    expect(() => signatureScalars([job], Buffer.alloc(32))).toThrow(/failed its own checks/);
    expect(() => signatureScalars([], randomBytes(32))).toThrow(RangeError);
    expect(() => signatureScalars(Array.from({ length: MAX_SIGNATURE_JOBS + 1 }, () => job), randomBytes(32))).toThrow(RangeError);
    expect(() => signatureScalars([{ ...job, d: randomBytes(31) }], randomBytes(32))).toThrow(RangeError);
    // On a second instance: after sign() the jobs and every working number sit in memory; after
    // wipe() nothing but the constants (n, R mod n, R^2 mod n at 512..639) does.
    const { bytes, sign, wipe } = instantiateP256Inverse();
    for (let i = 0; i < 64; i++) bytes.set(Buffer.concat([job.k, job.x, job.e, job.d]), 4096 + 160 * i);
    bytes.set(randomBytes(32), 3456);
    expect(sign(64)).toBe(1);
    const constants = Buffer.from(bytes.subarray(512, 640));
    expect(bytes.subarray(640, 4096).some((b) => b !== 0)).toBe(true);
    wipe();
    expect(bytes.subarray(0, 512).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(640).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(bytes.subarray(512, 640)).equals(constants)).toBe(true);
  });
});
