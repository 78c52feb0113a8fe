/**
 * The one place where the API turns an {@link AclMessage} into its JSON form: the FIPA
 * codec's `messageToJson` (string content stays a string, bytes become
 * `{ "base64": "..." }`; see `protocols/fipa/SPEC.md` §2).
 */
import { messageToJson } from '../../protocols/fipa/index.js'
import type { AclMessage } from '../../protocols/fipa/types.js'
import type { AclMessageJson } from './types.js'

/** `message` in JSON form: a fresh plain object with only the fields present. */
export function aclMessageToJson (message: AclMessage): AclMessageJson {
  return messageToJson(message)
}
