/**
 * Provider: offers and withdraws capabilities at run time, which the node publishes in
 * the cluster registry (protocols/agent-abi/SPEC.md §9). REQUEST with content
 *   `offer <name> [<version>]`     offers the capability: INFORM `offering <name>[@<version>]`
 *   `withdraw <name> [<version>]`  stops offering it: INFORM `withdrew <name>[@<version>]`
 * A name the registry refuses (over 100 characters, control characters), withdrawing one
 * it does not offer, or a bad command gets FAILURE with the reason; another performative
 * NOT-UNDERSTOOD (a report gets no answer).
 */
import {
  CAPABILITY_INVALID, CAPABILITY_NOT_FOUND, CAPABILITY_OK, CAPABILITY_QUOTA, Message, Performative,
  declareCapability, isReport, onMessage, reply, withdrawCapability
} from '../../sdk'
export { alloc, handle_message } from '../../sdk'

function describe (name: string, version: string): string {
  return version.length > 0 ? name + '@' + version : name
}

function handle (msg: Message): void {
  if (msg.performative != Performative.REQUEST) {
    if (!isReport(msg)) reply(msg, Performative.NOT_UNDERSTOOD, 'provider understands only REQUEST')
    return
  }
  const words = msg.text.split(' ')
  if (words.length < 2 || words.length > 3 || (words[0] != 'offer' && words[0] != 'withdraw')) {
    reply(msg, Performative.FAILURE, 'expected offer <name> [<version>] or withdraw <name> [<version>]')
    return
  }
  const name = words[1]
  const version = words.length == 3 ? words[2] : ''
  const what = describe(name, version)
  if (words[0] == 'offer') {
    const result = declareCapability(name, version)
    if (result == CAPABILITY_OK) reply(msg, Performative.INFORM, 'offering ' + what)
    else if (result == CAPABILITY_INVALID) reply(msg, Performative.FAILURE, 'not a valid capability: ' + what)
    else if (result == CAPABILITY_QUOTA) reply(msg, Performative.FAILURE, 'offering 64 capabilities already')
    else reply(msg, Performative.FAILURE, 'cannot offer ' + what + ' (' + result.toString() + ')')
  } else {
    const result = withdrawCapability(name, version)
    if (result == CAPABILITY_OK) reply(msg, Performative.INFORM, 'withdrew ' + what)
    else if (result == CAPABILITY_NOT_FOUND) reply(msg, Performative.FAILURE, 'not offering ' + what)
    else reply(msg, Performative.FAILURE, 'cannot withdraw ' + what + ' (' + result.toString() + ')')
  }
}

onMessage(handle)
