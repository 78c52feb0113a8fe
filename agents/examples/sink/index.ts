/**
 * Sink: takes every message and answers none (a one-way endpoint, for benchmarks and
 * chaos runs: what it handled shows in the node's handled log and its agent stats).
 */
import { Message, onMessage } from '../../sdk'
export { alloc, handle_message } from '../../sdk'

function handle (_msg: Message): void {}

onMessage(handle)
