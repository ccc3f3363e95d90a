import { ALGORITHM_TABLE, KEY_SPECS, KEY_SPEC_TABLE, isEncryptionAlgorithm, maxPlaintextBytes, usagesOf } from '../../../contract/specs.ts';
import { EXIT_OK, type Command } from '../command.ts';

/** The specs table as JSON, for scripts that need to know what the vault supports. */
export const specsCommand: Command = {
  name: 'specs',
  usage: 'deskkms specs',
  flags: {},
  run(_flags, io) {
    const specs = KEY_SPECS.map((spec) => ({
      KeySpec: spec,
      DefaultKeyUsage: KEY_SPEC_TABLE[spec].defaultUsage,
      KeyUsages: usagesOf(spec).map((usage) => ({
        KeyUsage: usage,
        Algorithms: KEY_SPEC_TABLE[spec].algorithms[usage].map((alg) => ({
          Algorithm: alg,
          Description: ALGORITHM_TABLE[alg].description,
          ...(isEncryptionAlgorithm(alg) ? { MaxPlaintextBytes: maxPlaintextBytes(spec, alg) } : {}),
        })),
      })),
    }));
    io.stdout.write(`${JSON.stringify({ KeySpecs: specs }, null, 2)}\n`);
    return Promise.resolve(EXIT_OK);
  },
};
