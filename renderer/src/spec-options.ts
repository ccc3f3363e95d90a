// Choices the Create Key dialog and the crypto panels offer, derived from the contract's specs
// table so the UI can never offer a combination the vault refuses.
import {
  ALGORITHM_TABLE,
  KEY_SPECS,
  KEY_SPEC_TABLE,
  isEncryptionAlgorithm,
  maxPlaintextBytes,
  usagesOf,
  type Algorithm,
  type KeySpec,
  type KeyUsage,
} from '../../core/contract/specs.ts';

export interface AlgorithmOption {
  readonly algorithm: Algorithm;
  readonly label: string;
  /** Encryption only: the largest plaintext, for the panel's hint and its length check. */
  readonly maxPlaintextBytes?: number;
}

export interface SpecOption {
  readonly spec: KeySpec;
  readonly usages: readonly KeyUsage[];
  readonly defaultUsage: KeyUsage;
}

export function specOptions(): SpecOption[] {
  return KEY_SPECS.map((spec) => ({ spec, usages: usagesOf(spec), defaultUsage: KEY_SPEC_TABLE[spec].defaultUsage }));
}

export function algorithmOptions(spec: KeySpec, usage: KeyUsage): AlgorithmOption[] {
  return KEY_SPEC_TABLE[spec].algorithms[usage].map((algorithm) => ({
    algorithm,
    label: `${algorithm} — ${ALGORITHM_TABLE[algorithm].description}`,
    ...(isEncryptionAlgorithm(algorithm) ? { maxPlaintextBytes: maxPlaintextBytes(spec, algorithm) } : {}),
  }));
}
