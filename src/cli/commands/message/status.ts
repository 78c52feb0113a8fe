/**
 * `caxton message status <id> [--wait-for <state> [--wait-timeout <ms>]]`: GET
 * /messages/:id as a table, one row per receiver; with `--wait-for`, polled until every
 * receiver's copy is in that state.
 */
import { Option, type Command } from 'commander'
import type { DeliveryState, MessageStatusResponse, ReceiverStatus } from '../../../api/types.js'
import { addGlobalOptions, CliError, integerIn, type CliContext } from '../../context.js'
import { examples, formatTime, oneLine, type Output } from '../../output.js'
import { shortPeer } from '../registry/format.js'

/** The states a wait can end in. */
type Goal = 'delivered' | 'handled' | 'dead-lettered'
const GOALS: Goal[] = ['delivered', 'handled', 'dead-lettered']

/** @default --wait-timeout, ms */
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000
/** Polls start this far apart and double up to {@link MAX_POLL_MS}, ms. */
const FIRST_POLL_MS = 100
const MAX_POLL_MS = 1000

interface StatusOptions {
  waitFor?: Goal
  waitTimeout?: number
}

export function registerMessageStatus (message: Command, ctx: CliContext): void {
  addGlobalOptions(message.command('status'))
    .description('where a message stands, per receiver: queued, sent, delivered, handled or dead-lettered')
    .argument('<id>', 'message id (as `caxton message send` prints it)')
    .addOption(new Option('--wait-for <state>', 'poll until every receiver is in this state (delivered also counts handled)').choices(GOALS))
    .option('--wait-timeout <ms>', `give up waiting after this many ms (default ${DEFAULT_WAIT_TIMEOUT_MS})`, integerIn(1, 3_600_000))
    .addHelpText('after', examples([
      'caxton message status m-01JD2X',
      'caxton message status m-01JD2X --wait-for handled --wait-timeout 10000',
      'caxton message status m-01JD2X --json'
    ]) + `

The node answers what it knows: a copy for an agent on another node is "delivered" once that
node has stored it; "handled" is known on the node hosting the receiver (ask it with --api).
A wait ends with exit code 1 when time runs out (WAIT_TIMEOUT) or when a copy reaches a state
it cannot leave other than the one awaited (WAIT_UNREACHABLE); the last status is printed.`)
    .action(async (id: string, opts: StatusOptions, command: Command) => {
      const { client, out } = ctx.scope(command)
      if (opts.waitFor === undefined) return print(out, await client.messageStatus(id))

      const goal = opts.waitFor
      const now = ctx.io.now ?? Date.now
      const sleep = ctx.io.sleep ?? (async (ms: number) => { await new Promise(resolve => setTimeout(resolve, ms)) })
      const timeoutMs = opts.waitTimeout ?? DEFAULT_WAIT_TIMEOUT_MS
      const deadline = now() + timeoutMs
      for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, MAX_POLL_MS)) {
        const status = await client.messageStatus(id)
        const pending = status.receivers.filter(r => !reached(r.state, goal))
        if (pending.length === 0) return print(out, status)
        const stuck = pending.find(r => isFinal(r.state))
        if (stuck !== undefined) {
          print(out, status)
          throw new CliError('WAIT_UNREACHABLE', `message ${id} will not be ${goal} for ${stuck.receiver}: it is ${stuck.state}${stuck.reason === undefined ? '' : ` (${stuck.reason})`}`)
        }
        const left = deadline - now()
        if (left <= 0) {
          print(out, status)
          throw new CliError('WAIT_TIMEOUT', `message ${id} is not ${goal} after ${timeoutMs} ms: ${pending.map(r => `${r.receiver} ${r.state}`).join(', ')}`)
        }
        await sleep(Math.min(pause, left))
      }
    })
}

function reached (state: DeliveryState, goal: Goal): boolean {
  return state === goal || (goal === 'delivered' && state === 'handled')
}

/** States a copy does not leave on its own (a replay of a dead letter starts it again). */
function isFinal (state: DeliveryState): boolean {
  return state === 'handled' || state === 'dead-lettered'
}

function print (out: Output, status: MessageStatusResponse): void {
  if (out.json) return out.printJson(status)
  out.line(`message ${status.messageId}${status.sender === undefined ? '' : ` from ${status.sender}`}`)
  out.table(
    ['receiver', 'state', 'at', 'peer', 'attempts', 'reason'],
    status.receivers.map(r => [
      r.receiver,
      colour(out, r.state),
      formatTime(r.at),
      r.peer === undefined ? '-' : shortPeer(r.peer),
      r.attempts === undefined ? '-' : String(r.attempts),
      reason(r)
    ])
  )
}

function colour (out: Output, state: DeliveryState): string {
  if (state === 'delivered' || state === 'handled') return out.style('green', state)
  if (state === 'dead-lettered') return out.style('red', state)
  return out.style('yellow', state)
}

/** The last error; for a dead letter its cause first and its id after, for `caxton dlq show`. */
function reason (r: ReceiverStatus): string {
  const text = [r.cause, r.reason === undefined ? undefined : oneLine(r.reason, 200)].filter(x => x !== undefined).join(': ')
  const withId = r.deadLetterId === undefined ? text : `${text} (dead letter ${r.deadLetterId})`
  return withId === '' ? '-' : withId
}
