/**
 * The node's hash-chained audit log (sublevel `audit`): every change made through the
 * REST API and every refusal, each entry carrying the SHA-256 of the one before.
 * Other modules record through {@link AuditLog.append}.
 *
 * @example
 * ```ts
 * const audit = await AuditLog.open(storage.sublevel('audit'))
 * await audit.append({ action: 'agent.deploy', outcome: 'ok', status: 201, target: 'echo', actor })
 * const refused = new RefusedFrames(audit)   // peers' refused frames, counted, one entry per key and period
 * refused.note(peerId, '/caxton/fipa/2.0.0', 'forged-sender', 'sender echo is not an agent of the peer')
 * const { ok, broken } = await audit.verify()
 * ```
 */
export { AuditLog, MAX_DETAIL_CHARS } from './audit-log.js'
export type { AuditEntry, AuditEntryJson, AuditHead, AuditInput, AuditLogOptions, AuditOutcome, AuditVerification } from './audit-log.js'
export { RefusedFrames, type RefusedFrameSink, type RefusedFramesOptions } from './refused-frames.js'
