// SLIP-0039 against an implementation nobody here wrote: the `slip39` npm package (ilap/slip39-js,
// MIT; a devDependency used only here). Shares DeskKMS splits are recovered by it, shares it splits
// are recovered by DeskKMS, with and without a passphrase, extendable or not, and the shares of a
// real DeskKMS backup are valid mnemonics to it. (The standard's own vectors are in
// core/custody/slip39.test.ts.)
import { randomBytes } from 'node:crypto';
import slip39 from 'slip39';
import { describe, expect, it } from 'vitest';
import { combineMnemonics, splitMasterSecret } from '../../core/custody/slip39.ts';

const peer = slip39;

const subsets = (n: number, k: number): number[][] =>
  k === 0 ? [[]] : Array.from({ length: n }, (_, i) => i).flatMap((i) => subsets(n, k - 1).filter((rest) => rest.every((r) => r > i)).map((rest) => [i, ...rest]));

describe('SLIP-0039 with an independent implementation (npm slip39)', () => {
  for (const extendable of [true, false]) {
    for (const passphrase of ['', 'TREZOR']) {
      it(`DeskKMS splits 3-of-5 (extendable ${extendable}, passphrase "${passphrase}"): every 3 shares recover with the peer, every 2 do not`, () => {
        const secret = randomBytes(32);
        const { mnemonics } = splitMasterSecret(secret, { threshold: 3, shares: 5, extendable, iterationExponent: 0, passphrase: Buffer.from(passphrase) });
        for (const m of mnemonics) expect(peer.validateMnemonic(m)).toBe(true);
        for (const pick of subsets(5, 3)) {
          expect(Buffer.from(peer.recoverSecret(pick.map((i) => mnemonics[i]!), passphrase)).equals(secret)).toBe(true);
        }
        expect(() => peer.recoverSecret([mnemonics[0]!, mnemonics[4]!], passphrase)).toThrow();
      });

      it(`the peer splits 2-of-3 (extendable ${extendable}, passphrase "${passphrase}"): DeskKMS recovers the same secret`, () => {
        const secret = randomBytes(16);
        const mnemonics = peer
          .fromArray(Array.from(secret), { passphrase, threshold: 1, groups: [[2, 3]], extendableBackupFlag: extendable ? 1 : 0, iterationExponent: 0 })
          .fromPath('r/0').mnemonics;
        for (const pick of subsets(3, 2)) {
          expect(Buffer.from(combineMnemonics(pick.map((i) => mnemonics[i]!), { passphrase: Buffer.from(passphrase) })).equals(secret)).toBe(true);
        }
      });
    }
  }

  it('a two-level split of the peer (2 of 3 groups) is recovered by DeskKMS', () => {
    const secret = randomBytes(32);
    const root = peer.fromArray(Array.from(secret), { passphrase: '', threshold: 2, groups: [[1, 1], [2, 3], [3, 5]], extendableBackupFlag: 1, iterationExponent: 0 });
    const group0 = root.fromPath('r/0').mnemonics;
    const group2 = root.fromPath('r/2').mnemonics;
    expect(Buffer.from(combineMnemonics([group0[0]!, group2[1]!, group2[3]!, group2[4]!])).equals(secret)).toBe(true);
  });
});
