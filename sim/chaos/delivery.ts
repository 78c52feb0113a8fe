/**
 * Delivery under faults, on real node processes (loopback): every message accounted for.
 *
 * N nodes, each hosting a relay and a sink agent (agents/examples). REST clients send
 * messages while the script kills nodes (kill -9, restarted on their data folder after
 * `downMs`), pauses them (SIGSTOP for longer than the suspicion timeout, so that
 * membership declares them dead) and cuts them off (`/faults/partition` from half the
 * cluster). Each message starts a chain tagged with its own conversation id:
 *   - direct: REST → `sink-t` (one hop);
 *   - relay:  REST → `relay-t`, which sends an INFORM to `sink-u` (agent to agent, two hops).
 * At the end, with every fault healed and every outbox and inbox empty, each hop of each
 * chain is looked up where the receiving agent handled it (the nodes' handled logs,
 * `delivery.handledLog`) and in the dead-letter queues: handled exactly once, or
 * dead-lettered (with a FAILURE to the relay when the relay was its sender). A hop found
 * nowhere is lost; a hop handled twice is duplicated.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Prng } from '../core/prng.js'
import { ROOT, apiFetch, startNodeProcess, waitFor, type NodeProcess } from '../cluster/index.js'

export const FAULT_KINDS = ['kill', 'pause', 'partition'] as const
export type FaultKind = typeof FAULT_KINDS[number]

export interface DeliveryChaosOptions {
  nodes: number
  /** Chains started (REST requests made). */
  messages: number
  faults: FaultKind[]
  seed: number
  /** REST requests in flight. @default 32 */
  window?: number
  /** Share of chains through a relay (agent to agent). @default 0.5 */
  relayShare?: number
  /** Time between two faults (one at a time), ms. @default 4000 */
  faultEveryMs?: number
  /** A killed node stays down this long before its restart, ms. @default 2000 */
  downMs?: number
  /** A paused node stays stopped this long (longer than the suspicion timeout), ms. @default 8000 */
  pauseMs?: number
  /** A partition lasts this long, ms. @default 5000 */
  partitionMs?: number
  /** Nodes' message deadline (`delivery.ttlMs`), ms. @default 30000 */
  ttlMs?: number
  /** Progress lines. */
  log?: (line: string) => void
}

/** One hop's outcome counts. */
export interface Tally {
  /** Hops expected (messages accepted with a 202, and the relays' INFORMs). */
  sent: number
  handled: number
  duplicated: number
  deadLettered: number
  /** Dead-lettered, and the sender (a relay) handled its FAILURE. */
  failureDelivered: number
  /** Handled by the receiver and also dead-lettered by the sender (the ack never came back before the deadline). */
  handledAndDeadLettered: number
  lost: number
}

export interface FaultRecord {
  kind: FaultKind
  victim: string
  /** ms from the start of the load. */
  atMs: number
  durationMs: number
}

export interface DeliveryChaosReport {
  nodes: number
  seed: number
  faults: FaultRecord[]
  /** REST requests made; accepted with 202; refused or unanswered (never acknowledged, so not counted as sent). */
  requests: { made: number, accepted: number, unacknowledged: number, unacknowledgedButHandled: number }
  /** Every hop, and by the fault active when its chain started (`none`: none was). */
  total: Tally
  byFault: Record<string, Tally>
  /** Hops, by kind: REST → agent, relay → sink. */
  byHop: { rest: Tally, relay: Tally }
  /** Examples of lost or duplicated hops (at most 10 each), for debugging. */
  examples: { lost: string[], duplicated: string[] }
  wallMs: number
  /** Load duration, ms; accepted messages / s over it. */
  loadMs: number
  acceptedPerSec: number
}

interface Chain {
  k: number
  conversationId: string
  entry: string
  /** First-hop receiver. */
  first: string
  /** Final sink, for relay chains. */
  sink?: string
  accepted: boolean
  /** The fault active when it was sent, or 'none'. */
  fault: string
}

interface HandledLine { key: string, receiver: string, messageId: string, sender: string, performative: string, inReplyTo?: string, conversationId?: string, sent: string[] }
interface DeadLetterJson { id: string, receiver: string, sender: string, messageId: string, cause: string, message: { conversationId?: string, performative?: string } }

const AGENTS = ['relay', 'sink'] as const

function emptyTally (): Tally {
  return { sent: 0, handled: 0, duplicated: 0, deadLettered: 0, failureDelivered: 0, handledAndDeadLettered: 0, lost: 0 }
}

export async function runDeliveryChaos (o: DeliveryChaosOptions): Promise<DeliveryChaosReport> {
  const log = o.log ?? (() => {})
  const rng = new Prng(o.seed)
  const window = o.window ?? 32
  const relayShare = o.relayShare ?? 0.5
  const ttlMs = o.ttlMs ?? 30_000
  const started = Date.now()
  const env = { CAXTON_DELIVERY_HANDLED_LOG: 'true', CAXTON_DELIVERY_TTL_MS: String(ttlMs), CAXTON_LOG_LEVEL: 'warn' }
  const args = ['--enable-faults']
  const nodes: NodeProcess[] = []
  /** Nodes the load may talk to (not killed or paused now). */
  const up = new Set<string>()
  try {
    log(`starting ${o.nodes} nodes`)
    nodes.push(await startNodeProcess({ name: 'n1', args, env, timeoutMs: 60_000 }))
    for (let i = 2; i <= o.nodes; i++) nodes.push(await startNodeProcess({ name: `n${i}`, join: [nodes[0].multiaddrs[0]], args, env, timeoutMs: 60_000 }))
    for (const n of nodes) up.add(n.name)
    const wasm = Object.fromEntries(AGENTS.map(a => [a, readFileSync(join(ROOT, 'dist', 'agents', `${a}.wasm`))]))
    for (const [i, n] of nodes.entries()) {
      for (const a of AGENTS) {
        const res = await apiFetch(n, `/agents?id=${a}-${i + 1}`, { method: 'POST', headers: { 'content-type': 'application/wasm' }, body: wasm[a] })
        if (res.status !== 201) throw new Error(`deploy ${a}-${i + 1} on ${n.name}: ${res.status} ${await res.text()}`)
      }
    }
    await waitFor('every node to know every agent', async () => {
      for (const n of nodes) {
        const r = await (await apiFetch(n, '/registry')).json() as { agents: number }
        if (r.agents < AGENTS.length * o.nodes) return undefined
      }
      return true
    }, 60_000, 200)
    log(`${o.nodes} nodes up, ${AGENTS.length * o.nodes} agents registered everywhere; sending ${o.messages} messages, faults: ${o.faults.join(', ') || 'none'}`)

    // --- load and faults, concurrently ---
    const chains: Chain[] = []
    const faults: FaultRecord[] = []
    let activeFault = 'none'
    let next = 0
    let loadDone = false
    const t0 = Date.now()
    const byName = (name: string): NodeProcess => nodes.find(n => n.name === name) as NodeProcess
    const pickUp = (): NodeProcess => {
      const live = nodes.filter(n => up.has(n.name))
      return live[rng.int(live.length)]
    }
    const worker = async (): Promise<void> => {
      while (next < o.messages) {
        const k = next++
        const entry = pickUp()
        const t = 1 + rng.int(o.nodes)
        const relay = rng.next() < relayShare
        const chain: Chain = { k, conversationId: `chaos-${o.seed}-${k}`, entry: entry.name, first: relay ? `relay-${t}` : `sink-${t}`, accepted: false, fault: activeFault }
        if (relay) chain.sink = `sink-${1 + rng.int(o.nodes)}`
        chains.push(chain)
        const body = { performative: relay ? 'REQUEST' : 'INFORM', content: relay ? chain.sink : `k${k}`, conversationId: chain.conversationId }
        try {
          const res = await apiFetch(entry, `/agents/${chain.first}/messages`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000)
          })
          chain.accepted = res.status === 202
          if (!chain.accepted && res.status !== 503) log(`  request ${k} to ${entry.name}: ${res.status} ${await res.text()}`)
        } catch {
          // No answer (the node died under the request): never acknowledged.
        }
      }
    }
    const faultLoop = async (): Promise<void> => {
      let i = 0
      while (!loadDone && o.faults.length > 0) {
        await sleep(o.faultEveryMs ?? 4000)
        if (loadDone) break
        const kind = o.faults[i++ % o.faults.length]
        const victim = nodes[rng.int(nodes.length)]
        const atMs = Date.now() - t0
        activeFault = `${kind} ${victim.name}`
        log(`  ${(atMs / 1000).toFixed(1)} s: ${kind} ${victim.name}`)
        const began = Date.now()
        if (kind === 'kill') {
          up.delete(victim.name)
          victim.child.kill('SIGKILL')
          await victim.stop('SIGKILL')
          await sleep(o.downMs ?? 2000)
          const seed = nodes.find(n => n !== victim && up.has(n.name)) as NodeProcess
          const restarted = await startNodeProcess({ name: victim.name, dataDir: victim.dataDir, join: [seed.multiaddrs[0]], args, env, timeoutMs: 60_000 })
          nodes[nodes.indexOf(victim)] = restarted
          up.add(victim.name)
        } else if (kind === 'pause') {
          up.delete(victim.name)
          victim.child.kill('SIGSTOP')
          await sleep(o.pauseMs ?? 8000)
          victim.child.kill('SIGCONT')
          up.add(victim.name)
        } else {
          const others = nodes.filter(n => n !== victim)
          const cut = others.slice(0, Math.max(1, Math.ceil(others.length / 2))).map(n => n.peerId)
          await postJson(victim, '/faults/partition', { peers: cut })
          await sleep(o.partitionMs ?? 5000)
          await postJson(byName(victim.name), '/faults/heal', {})
        }
        faults.push({ kind, victim: victim.name, atMs, durationMs: Date.now() - began })
        activeFault = 'none'
      }
    }
    const faulting = faultLoop()
    await Promise.all(Array.from({ length: window }, worker))
    const loadMs = Date.now() - t0
    loadDone = true
    await faulting
    const accepted = chains.filter(c => c.accepted).length
    log(`load done in ${(loadMs / 1000).toFixed(1)} s: ${accepted}/${chains.length} accepted; ${faults.length} faults; waiting for every outbox and inbox to empty`)

    // --- quiescence: nothing left to deliver anywhere ---
    await waitFor('every outbox and inbox to be empty', async () => {
      for (const n of nodes) {
        const text = await (await apiFetch(n, '/metrics', { signal: AbortSignal.timeout(5000) })).text()
        if (gauge(text, 'caxton_delivery_outbox_messages') !== 0 || gauge(text, 'caxton_delivery_inbox_messages') !== 0) return undefined
      }
      return true
    }, ttlMs + 60_000, 250)

    // --- accounting ---
    const handled: HandledLine[] = []
    const dead: DeadLetterJson[] = []
    for (const n of nodes) {
      let after: string | undefined
      for (;;) {
        const page = await (await apiFetch(n, `/messages/handled?limit=10000${after !== undefined ? `&after=${after}` : ''}`)).json() as { entries: HandledLine[] }
        handled.push(...page.entries)
        if (page.entries.length < 10000) break
        after = page.entries[page.entries.length - 1].key
      }
      const dl = await (await apiFetch(n, '/dead-letters?limit=100000')).json() as { deadLetters: DeadLetterJson[] }
      dead.push(...dl.deadLetters)
    }
    const report = account(chains, handled, dead)
    return {
      nodes: o.nodes,
      seed: o.seed,
      faults,
      ...report,
      requests: { ...report.requests, made: chains.length },
      wallMs: Date.now() - started,
      loadMs,
      acceptedPerSec: Math.round(accepted / (loadMs / 1000))
    }
  } finally {
    await Promise.all(nodes.map(async n => {
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGCONT')
      await n.stop('SIGKILL')
    }))
  }
}

/** Counts each hop of each chain where it was handled and dead-lettered. */
function account (chains: Chain[], handled: HandledLine[], dead: DeadLetterJson[]): Omit<DeliveryChaosReport, 'nodes' | 'seed' | 'faults' | 'wallMs' | 'loadMs' | 'acceptedPerSec'> {
  const key = (conversationId: string | undefined, receiver: string): string => `${conversationId ?? ''}|${receiver}`
  const handledBy = new Map<string, HandledLine[]>()
  const failures = new Map<string, HandledLine[]>()
  for (const h of handled) {
    const map = h.performative === 'FAILURE' ? failures : handledBy
    const k = key(h.conversationId, h.receiver)
    const list = map.get(k) ?? []
    list.push(h)
    map.set(k, list)
  }
  const deadBy = new Map<string, DeadLetterJson[]>()
  for (const d of dead) {
    const k = key(d.message.conversationId, d.receiver)
    const list = deadBy.get(k) ?? []
    list.push(d)
    deadBy.set(k, list)
  }
  const total = emptyTally()
  const byFault: Record<string, Tally> = {}
  const byHop = { rest: emptyTally(), relay: emptyTally() }
  const examples = { lost: [] as string[], duplicated: [] as string[] }
  let unacknowledged = 0
  let unacknowledgedButHandled = 0

  /** Tallies one hop; returns its handled lines. */
  const hop = (c: Chain, receiver: string, sender: string | undefined, kind: 'rest' | 'relay'): HandledLine[] => {
    const k = key(c.conversationId, receiver)
    const got = handledBy.get(k) ?? []
    const dl = deadBy.get(k) ?? []
    const tallies = [total, byHop[kind], (byFault[c.fault] ??= emptyTally())]
    for (const t of tallies) {
      t.sent++
      if (got.length === 1) t.handled++
      if (got.length > 1) t.duplicated++
      if (got.length === 0 && dl.length > 0) {
        t.deadLettered++
        if (sender !== undefined && (failures.get(key(c.conversationId, sender))?.length ?? 0) > 0) t.failureDelivered++
      }
      if (got.length > 0 && dl.length > 0) t.handledAndDeadLettered++
      if (got.length === 0 && dl.length === 0) t.lost++
    }
    const label = `${c.conversationId} → ${receiver} (entry ${c.entry}, during ${c.fault})`
    if (got.length === 0 && dl.length === 0 && examples.lost.length < 10) examples.lost.push(label)
    if (got.length > 1 && examples.duplicated.length < 10) examples.duplicated.push(`${label}: handled ${got.length} times`)
    return got
  }

  for (const c of chains) {
    if (!c.accepted) {
      unacknowledged++
      if ((handledBy.get(key(c.conversationId, c.first))?.length ?? 0) > 0) unacknowledgedButHandled++
      continue
    }
    const got = hop(c, c.first, undefined, 'rest')
    // The relay's INFORM exists once the relay handled the REQUEST (its send committed with it).
    if (c.sink !== undefined && got.length > 0) hop(c, c.sink, c.first, 'relay')
  }
  return {
    requests: { made: chains.length, accepted: chains.length - unacknowledged, unacknowledged, unacknowledgedButHandled },
    total,
    byFault,
    byHop,
    examples
  }
}

async function postJson (node: NodeProcess, path: string, body: unknown): Promise<void> {
  const res = await apiFetch(node, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
  if (!res.ok) throw new Error(`POST ${node.api}${path}: ${res.status} ${await res.text()}`)
}

/** The value of a gauge without labels in Prometheus text, or NaN. */
function gauge (text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return m === null ? NaN : Number(m[1])
}
