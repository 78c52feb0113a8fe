/**
 * Key-value store: keeps text values under text keys in its durable store, so they
 * survive restarts of the node. REQUEST with content
 *   `put <key> <value>`  sets key to value (the rest of the line, spaces included)
 *   `get <key>`          answers the value
 *   `delete <key>`       removes the key
 *   `list [<prefix>]`    answers the keys starting with prefix, one per line, in byte order
 * answered with INFORM (`ok`, the value, `deleted`, the keys). A missing key, a bad
 * command, a key over 1024 bytes or a full store (its quota) gets FAILURE with the reason;
 * any other performative gets NOT-UNDERSTOOD (but a report gets no answer).
 */
import { KV_BAD_KEY, KV_OK, KV_QUOTA, Message, Performative, isReport, kv, onMessage, reply } from '../../sdk'
export { alloc, handle_message } from '../../sdk'

/** The first word of `s` and the rest after one space, or `s` and "". */
function split (s: string): string[] {
  const space = s.indexOf(' ')
  return space < 0 ? [s, ''] : [s.substring(0, space), s.substring(space + 1)]
}

function failure (msg: Message, result: i32, key: string): void {
  if (result == KV_QUOTA) reply(msg, Performative.FAILURE, 'store full: the value does not fit in the quota')
  else if (result == KV_BAD_KEY) reply(msg, Performative.FAILURE, 'bad key: 1 to 1024 bytes')
  else reply(msg, Performative.FAILURE, 'no key "' + key + '"')
}

function handle (msg: Message): void {
  if (msg.performative != Performative.REQUEST) {
    if (!isReport(msg)) reply(msg, Performative.NOT_UNDERSTOOD, 'kv-store understands only REQUEST')
    return
  }
  const parts = split(msg.text)
  const command = parts[0]
  if (command == 'put') {
    const kv2 = split(parts[1])
    const result = kv.putString(kv2[0], kv2[1])
    if (result == KV_OK) reply(msg, Performative.INFORM, 'ok')
    else failure(msg, result, kv2[0])
  } else if (command == 'get') {
    const value = kv.getString(parts[1])
    if (value !== null) reply(msg, Performative.INFORM, value)
    else failure(msg, parts[1].length == 0 ? KV_BAD_KEY : -1, parts[1])
  } else if (command == 'delete') {
    const result = kv.remove(parts[1])
    if (result == KV_OK) reply(msg, Performative.INFORM, 'deleted')
    else failure(msg, result, parts[1])
  } else if (command == 'list') {
    reply(msg, Performative.INFORM, kv.keys(parts[1]).join('\n'))
  } else {
    reply(msg, Performative.FAILURE, 'unknown command "' + command + '"; expected put <key> <value>, get <key>, delete <key> or list [<prefix>]')
  }
}

onMessage(handle)
