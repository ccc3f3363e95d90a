// One example command line per Action (after "deskkms "), shown by `deskkms <Action> --help`. The
// table is also the CLI's list of Action names for the main help and for telling an Action from a
// command without loading the request schemas (zod): a test checks that its keys are exactly
// ACTION_NAMES and that every example parses under its Action's schema.
import type { ActionName } from '../../contract/actions.ts';

const KEY = 'alias/release';
const VERSION = '2f7cf6b5-4c1e-4b0a-9d3f-1c2b3a4d5e6f';
const ON = `--KeyId ${KEY} --KeyVersionId ${VERSION}`;
/** base64 SHA-256 of "test": what `deskkms digest` prints for a file holding "test". */
const DIGEST = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';
/** base64 of "correct horse" (passphrase parameters are base64 of their bytes). */
const PASSPHRASE = 'Y29ycmVjdCBob3JzZQ==';
const NEW_PASSPHRASE = 'YmF0dGVyeSBzdGFwbGU=';
/** A CiphertextBlob as Encrypt answers it (base64; the example's bytes are not a real ciphertext). */
const BLOB = 'REtNUwEB';
/** base64 of a DER SubjectPublicKeyInfo (shortened: the example's bytes are not a real key). */
const SPKI = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA';

export const ACTION_EXAMPLES: Readonly<Record<ActionName, string>> = {
  CreateKey: 'CreateKey --KeySpec EC_P256 --KeyUsage SIGN/VERIFY --Description "release signing"',
  DescribeKey: `DescribeKey --KeyId ${KEY}`,
  ListKeys: `ListKeys --PageSize 50 --Filters '[{"Key":"KeyUsage","Values":["SIGN/VERIFY"]}]'`,
  UpdateKeyDescription: `UpdateKeyDescription --KeyId ${KEY} --Description "release signing, 2026"`,
  CreateKeyVersion: `CreateKeyVersion --KeyId ${KEY}`,
  DescribeKeyVersion: `DescribeKeyVersion ${ON}`,
  ListKeyVersions: `ListKeyVersions --KeyId ${KEY}`,
  GetPublicKey: `GetPublicKey ${ON}`,
  AsymmetricSign: `AsymmetricSign ${ON} --Algorithm ECDSA_SHA_256 --Digest ${DIGEST}`,
  AsymmetricVerify: `AsymmetricVerify ${ON} --Algorithm ECDSA_SHA_256 --Digest ${DIGEST} --Value MEUCIQ==`,
  AsymmetricEncrypt: `AsymmetricEncrypt ${ON} --Algorithm RSAES_OAEP_SHA_256 --Plaintext aGVsbG8=`,
  AsymmetricDecrypt: `AsymmetricDecrypt ${ON} --Algorithm RSAES_OAEP_SHA_256 --CiphertextBlob c2VhbGVkIGJ5IEFzeW1tZXRyaWNFbmNyeXB0`,
  CreateAlias: `CreateAlias --KeyId 0b8a3c2e-5d4f-4e6a-8b7c-9d0e1f2a3b4c --AliasName ${KEY}`,
  UpdateAlias: `UpdateAlias --KeyId 0b8a3c2e-5d4f-4e6a-8b7c-9d0e1f2a3b4c --AliasName ${KEY}`,
  DeleteAlias: `DeleteAlias --AliasName ${KEY}`,
  ListAliases: 'ListAliases',
  ListAliasesByKeyId: 'ListAliasesByKeyId --KeyId 0b8a3c2e-5d4f-4e6a-8b7c-9d0e1f2a3b4c',
  EnableKey: `EnableKey --KeyId ${KEY}`,
  DisableKey: `DisableKey --KeyId ${KEY}`,
  ScheduleKeyDeletion: `ScheduleKeyDeletion --KeyId ${KEY} --PendingWindowInDays 7`,
  CancelKeyDeletion: `CancelKeyDeletion --KeyId ${KEY}`,
  TagResource: `TagResource --KeyId ${KEY} --Tags '[{"TagKey":"team","TagValue":"release"}]'`,
  UntagResource: `UntagResource --KeyId ${KEY} --TagKeys '["team"]'`,
  ListResourceTags: `ListResourceTags --KeyId ${KEY}`,
  ExportKeyVersion: `ExportKeyVersion ${ON} --Passphrase ${PASSPHRASE} --Kdf scrypt`,
  ImportKeyVersion: `ImportKeyVersion --KeyId ${KEY} --EncryptedPrivateKey "$(cat key.p8.pem)" --Passphrase ${PASSPHRASE}`,
  GetParametersForImport: `GetParametersForImport --KeyId ${KEY} --WrappingAlgorithm RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD --WrappingKeySpec RSA_2048`,
  ImportKeyMaterial: `ImportKeyMaterial --KeyId ${KEY} --EncryptedKeyMaterial d3JhcHBlZCBrZXkgbWF0ZXJpYWw= --ImportToken "$(cat token.txt)"`,
  DeleteKeyMaterial: `DeleteKeyMaterial --KeyId ${KEY}`,
  ImportPublicKeyVersion: 'ImportPublicKeyVersion --KeyId alias/partner --PublicKey "$(cat partner.pub.pem)"',
  GetPublicKeyBundle: `GetPublicKeyBundle ${ON}`,
  CreateCertificateSigningRequest: `CreateCertificateSigningRequest ${ON} --Subject "CN=release.example.com,O=Example" --SubjectAlternativeNames '["DNS:release.example.com"]'`,
  CreateSelfSignedCertificate: `CreateSelfSignedCertificate ${ON} --Subject "CN=Example Root CA" --ValidityDays 3650 --PathLen 1`,
  IssueCertificate: `IssueCertificate ${ON} --Csr "$(cat request.csr)" --ValidityDays 365 --Policy leaf-defaults`,
  AttachCertificate: `AttachCertificate ${ON} --CertificateChain "$(cat chain.pem)"`,
  GetCertificates: `GetCertificates ${ON}`,
  Encrypt: `Encrypt --KeyId alias/backups --Plaintext aGVsbG8= --EncryptionContext '{"purpose":"backup"}'`,
  Decrypt: `Decrypt --CiphertextBlob ${BLOB} --EncryptionContext '{"purpose":"backup"}'`,
  GenerateDataKey: `GenerateDataKey --KeyId alias/backups --KeySpec AES_256 --EncryptionContext '{"purpose":"backup"}'`,
  GenerateDataKeyWithoutPlaintext: 'GenerateDataKeyWithoutPlaintext --KeyId alias/backups --NumberOfBytes 32',
  ReEncrypt: `ReEncrypt --CiphertextBlob ${BLOB} --DestinationKeyId alias/backups-2027 --SourceEncryptionContext '{"purpose":"backup"}'`,
  GenerateAndExportDataKey: `GenerateAndExportDataKey --KeyId alias/backups --PublicKeyBlob ${SPKI} --WrappingKeySpec RSA_2048 --WrappingAlgorithm RSAES_OAEP_SHA_256`,
  ExportDataKey: `ExportDataKey --CiphertextBlob ${BLOB} --PublicKeyBlob ${SPKI} --WrappingKeySpec RSA_2048 --WrappingAlgorithm RSAES_OAEP_SHA_256`,
  UpdateRotationPolicy: 'UpdateRotationPolicy --KeyId alias/backups --EnableAutomaticRotation true --RotationInterval 365d',
  CreateAccessKey: `CreateAccessKey --Policy '{"Actions":["AsymmetricSign"],"Keys":["${KEY}"]}' --Description "build server"`,
  ListAccessKeys: 'ListAccessKeys',
  EnableAccessKey: 'EnableAccessKey --AccessKeyId DKMSa1B2c3D4e5F6g7H8i9J0',
  DisableAccessKey: 'DisableAccessKey --AccessKeyId DKMSa1B2c3D4e5F6g7H8i9J0',
  DeleteAccessKey: 'DeleteAccessKey --AccessKeyId DKMSa1B2c3D4e5F6g7H8i9J0',
  AddRemoteConnection:
    'AddRemoteConnection --Name hangzhou --Endpoint kms.cn-hangzhou.aliyuncs.com --RegionId cn-hangzhou --AccessKeyId LTAI5tExample --AccessKeySecret "$(cat ak-secret.txt)"',
  ListRemoteConnections: 'ListRemoteConnections',
  RemoveRemoteConnection: 'RemoveRemoteConnection --Name hangzhou',
  ListRemoteKeys: 'ListRemoteKeys --Connection hangzhou --PageSize 20',
  ListAuditEntries: `ListAuditEntries --KeyId ${KEY} --Since 2026-01-01T00:00:00Z --Limit 20 --NewestFirst true`,
  VerifyAuditChain: 'VerifyAuditChain',
  AcknowledgeAuditBreak: 'AcknowledgeAuditBreak',
  CreateBackup: `CreateBackup --Path vault-backup.dkb --Recovery passphrase --Passphrase ${PASSPHRASE}`,
  ChangePassphrase: `ChangePassphrase --Passphrase ${PASSPHRASE} --NewPassphrase ${NEW_PASSPHRASE}`,
  ChangeProtection: `ChangeProtection --Protection keychain --Passphrase ${PASSPHRASE}`,
  RotateDataKey: `RotateDataKey --Passphrase ${PASSPHRASE}`,
  AddAgentIdentity: `AddAgentIdentity ${ON} --Confirm true`,
  RemoveAgentIdentity: `RemoveAgentIdentity --KeyId ${KEY}`,
  ListAgentIdentities: 'ListAgentIdentities',
};

/** The Action names, in the table's order. */
export const CLI_ACTION_NAMES = Object.keys(ACTION_EXAMPLES) as ActionName[];

export function isCliActionName(name: string): name is ActionName {
  return Object.hasOwn(ACTION_EXAMPLES, name);
}
