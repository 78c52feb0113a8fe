/**
 * `caxton message send <agent> [...]`: POST /agents/:id/messages, optionally waiting
 * for the reply.
 */
import { Option, type Command } from 'commander'
import { MAX_WAIT_MS } from '../../../api/schemas.js'
import type { AclContentJson, AclMessageJson, MessageDraftJson } from '../../../api/types.js'
import { addGlobalOptions, integerIn, UsageError, type CliContext } from '../../context.js'
import { examples, fullContent, type Output } from '../../output.js'

interface SendOptions {
  performative: string
  content?: string
  contentFile?: string
  contentBase64?: string
  conversationId?: string
  protocol?: string
  ontology?: string
  language?: string
  replyWith?: string
  inReplyTo?: string
  sender?: string
  wait?: number
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const CONTENT_OPTIONS = ['content', 'contentFile', 'contentBase64']
const othersThan = (name: string): string[] => CONTENT_OPTIONS.filter(o => o !== name)

export function registerMessageSend (message: Command, ctx: CliContext): void {
  addGlobalOptions(message.command('send'))
    .description('send a FIPA-ACL message to an agent, anywhere in the cluster')
    .argument('<agent>', 'the receiving agent id')
    .option('--performative <act>', 'FIPA communicative act, e.g. REQUEST, INFORM, QUERY-REF, CFP', 'REQUEST')
    .addOption(new Option('--content <text>', 'content, as text').conflicts(othersThan('content')))
    .addOption(new Option('--content-file <path>', 'content read from a file (text if valid UTF-8, else bytes)').conflicts(othersThan('contentFile')))
    .addOption(new Option('--content-base64 <b64>', 'content as bytes, given in base64').conflicts(othersThan('contentBase64')))
    .option('--conversation-id <id>', 'conversation id (default: a new one)')
    .option('--protocol <name>', 'interaction protocol, e.g. fipa-request')
    .option('--ontology <name>', 'ontology of the content')
    .option('--language <name>', 'content language')
    .option('--reply-with <token>', 'token the reply should carry in in-reply-to')
    .option('--in-reply-to <token>', 'the reply-with of the message this one answers')
    .option('--sender <id>', 'sender id to send as (default: a client id chosen by the node)')
    .option('--wait <ms>', `wait up to this many ms for the first reply (max ${MAX_WAIT_MS})`, integerIn(0, MAX_WAIT_MS))
    .addHelpText('after', examples([
      'caxton message send echo --content hello',
      'caxton message send echo --performative QUERY-REF --content "(price ?x)" --wait 2000',
      'caxton message send store --content-file order.json --protocol fipa-request --conversation-id order-17',
      'caxton message send sink --content-base64 AAECAw== --performative INFORM --json'
    ]) + '\n\nWith --wait, the reply is printed (exit code 1 with REPLY_TIMEOUT if none came in time).')
    .action(async (agent: string, opts: SendOptions, command: Command) => {
      const { client, out } = ctx.scope(command)
      const draft: MessageDraftJson = { performative: opts.performative.toUpperCase() }
      const content = await readContent(opts, ctx)
      if (content !== undefined) draft.content = content
      if (opts.conversationId !== undefined) draft.conversationId = opts.conversationId
      if (opts.protocol !== undefined) draft.protocol = opts.protocol
      if (opts.ontology !== undefined) draft.ontology = opts.ontology
      if (opts.language !== undefined) draft.language = opts.language
      if (opts.replyWith !== undefined) draft.replyWith = opts.replyWith
      if (opts.inReplyTo !== undefined) draft.inReplyTo = opts.inReplyTo
      if (opts.sender !== undefined) draft.sender = opts.sender

      const waitMs = opts.wait !== undefined && opts.wait > 0 ? opts.wait : undefined
      const res = await client.sendMessage(agent, draft, waitMs === undefined ? {} : { waitMs })
      if (out.json) return out.printJson(res)
      out.line(`sent ${draft.performative} to ${agent}: message ${res.messageId}, conversation ${res.conversationId}, as ${res.sender}`)
      if (res.reply !== undefined) printReply(out, res.reply)
    })
}

async function readContent (opts: SendOptions, ctx: CliContext): Promise<AclContentJson | undefined> {
  if (opts.content !== undefined) return opts.content
  if (opts.contentBase64 !== undefined) {
    if (opts.contentBase64.length % 4 !== 0 || !BASE64.test(opts.contentBase64)) {
      throw new UsageError('--content-base64 must be standard, padded base64 (e.g. AAECAw==)')
    }
    return { base64: opts.contentBase64 }
  }
  if (opts.contentFile !== undefined) {
    const bytes = await ctx.readFile(opts.contentFile)
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      return { base64: Buffer.from(bytes).toString('base64') }
    }
  }
  return undefined
}

function printReply (out: Output, reply: AclMessageJson): void {
  out.line(`reply ${reply.performative} from ${reply.sender} (message ${reply.messageId}):`)
  out.line(reply.content === undefined ? out.style('dim', '(no content)') : fullContent(reply.content))
}
