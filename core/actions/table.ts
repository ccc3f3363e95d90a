// The handler table: one entry per Action of core/contract/actions.ts. tsc refuses a table that
// misses an Action or gives one the wrong request type.
import { createKey } from './create-key.ts';
import { describeKey } from './describe-key.ts';
import { listKeys } from './list-keys.ts';
import { updateKeyDescription } from './update-key-description.ts';
import { createKeyVersion } from './create-key-version.ts';
import { describeKeyVersion } from './describe-key-version.ts';
import { listKeyVersions } from './list-key-versions.ts';
import { getPublicKey } from './get-public-key.ts';
import { asymmetricSign } from './asymmetric-sign.ts';
import { asymmetricVerify } from './asymmetric-verify.ts';
import { asymmetricEncrypt } from './asymmetric-encrypt.ts';
import { asymmetricDecrypt } from './asymmetric-decrypt.ts';
import { createAlias } from './create-alias.ts';
import { updateAlias } from './update-alias.ts';
import { deleteAlias } from './delete-alias.ts';
import { listAliases } from './list-aliases.ts';
import { listAliasesByKeyId } from './list-aliases-by-key-id.ts';
import { enableKey } from './enable-key.ts';
import { disableKey } from './disable-key.ts';
import { scheduleKeyDeletion } from './schedule-key-deletion.ts';
import { cancelKeyDeletion } from './cancel-key-deletion.ts';
import { tagResource } from './tag-resource.ts';
import { untagResource } from './untag-resource.ts';
import { listResourceTags } from './list-resource-tags.ts';
import { exportKeyVersion } from './export-key-version.ts';
import { importKeyVersion } from './import-key-version.ts';
import { getParametersForImport } from './get-parameters-for-import.ts';
import { importKeyMaterial } from './import-key-material.ts';
import { deleteKeyMaterial } from './delete-key-material.ts';
import { importPublicKeyVersion } from './import-public-key-version.ts';
import { getPublicKeyBundle } from './get-public-key-bundle.ts';
import { createCertificateSigningRequest } from './create-certificate-signing-request.ts';
import { createSelfSignedCertificate } from './create-self-signed-certificate.ts';
import { issueCertificate } from './issue-certificate.ts';
import { attachCertificate } from './attach-certificate.ts';
import { getCertificates } from './get-certificates.ts';
// Symmetric keys (issue 18).
import { encrypt } from './encrypt.ts';
import { decrypt } from './decrypt.ts';
import { generateDataKey } from './generate-data-key.ts';
import { generateDataKeyWithoutPlaintext } from './generate-data-key-without-plaintext.ts';
import { reEncrypt } from './re-encrypt.ts';
import { generateAndExportDataKey } from './generate-and-export-data-key.ts';
import { exportDataKey } from './export-data-key.ts';
import { updateRotationPolicy } from './update-rotation-policy.ts';
// DeskKMS administration (local only).
import { createAccessKey } from './create-access-key.ts';
import { listAccessKeys } from './list-access-keys.ts';
import { enableAccessKey } from './enable-access-key.ts';
import { disableAccessKey } from './disable-access-key.ts';
import { deleteAccessKey } from './delete-access-key.ts';
import { addRemoteConnection } from './add-remote-connection.ts';
import { listRemoteConnections } from './list-remote-connections.ts';
import { removeRemoteConnection } from './remove-remote-connection.ts';
import { listRemoteKeys } from './list-remote-keys.ts';
import { addAgentIdentity } from './add-agent-identity.ts';
import { removeAgentIdentity } from './remove-agent-identity.ts';
import { listAgentIdentities } from './list-agent-identities.ts';
import { listAuditEntries } from './list-audit-entries.ts';
import { verifyAuditChain } from './verify-audit-chain.ts';
import { acknowledgeAuditBreak } from './acknowledge-audit-break.ts';
import { createBackup } from './create-backup.ts';
import { changePassphrase } from './change-passphrase.ts';
import { changeProtection } from './change-protection.ts';
import { rotateDataKey } from './rotate-data-key.ts';
import type { HandlerTable } from './operation.ts';

export const HANDLERS: HandlerTable = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  UpdateKeyDescription: updateKeyDescription,
  CreateKeyVersion: createKeyVersion,
  DescribeKeyVersion: describeKeyVersion,
  ListKeyVersions: listKeyVersions,
  GetPublicKey: getPublicKey,
  AsymmetricSign: asymmetricSign,
  AsymmetricVerify: asymmetricVerify,
  AsymmetricEncrypt: asymmetricEncrypt,
  AsymmetricDecrypt: asymmetricDecrypt,
  CreateAlias: createAlias,
  UpdateAlias: updateAlias,
  DeleteAlias: deleteAlias,
  ListAliases: listAliases,
  ListAliasesByKeyId: listAliasesByKeyId,
  EnableKey: enableKey,
  DisableKey: disableKey,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListResourceTags: listResourceTags,
  ExportKeyVersion: exportKeyVersion,
  ImportKeyVersion: importKeyVersion,
  GetParametersForImport: getParametersForImport,
  ImportKeyMaterial: importKeyMaterial,
  DeleteKeyMaterial: deleteKeyMaterial,
  ImportPublicKeyVersion: importPublicKeyVersion,
  GetPublicKeyBundle: getPublicKeyBundle,
  CreateCertificateSigningRequest: createCertificateSigningRequest,
  CreateSelfSignedCertificate: createSelfSignedCertificate,
  IssueCertificate: issueCertificate,
  AttachCertificate: attachCertificate,
  GetCertificates: getCertificates,
  // Symmetric keys.
  Encrypt: encrypt,
  Decrypt: decrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  ReEncrypt: reEncrypt,
  GenerateAndExportDataKey: generateAndExportDataKey,
  ExportDataKey: exportDataKey,
  UpdateRotationPolicy: updateRotationPolicy,
  // DeskKMS administration (local only).
  CreateAccessKey: createAccessKey,
  ListAccessKeys: listAccessKeys,
  EnableAccessKey: enableAccessKey,
  DisableAccessKey: disableAccessKey,
  DeleteAccessKey: deleteAccessKey,
  AddRemoteConnection: addRemoteConnection,
  ListRemoteConnections: listRemoteConnections,
  RemoveRemoteConnection: removeRemoteConnection,
  ListRemoteKeys: listRemoteKeys,
  AddAgentIdentity: addAgentIdentity,
  RemoveAgentIdentity: removeAgentIdentity,
  ListAgentIdentities: listAgentIdentities,
  ListAuditEntries: listAuditEntries,
  VerifyAuditChain: verifyAuditChain,
  AcknowledgeAuditBreak: acknowledgeAuditBreak,
  // Custody (local only).
  CreateBackup: createBackup,
  ChangePassphrase: changePassphrase,
  ChangeProtection: changeProtection,
  RotateDataKey: rotateDataKey,
};
