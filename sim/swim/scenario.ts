/**
 * Scenario files: what a SWIM simulation runs (cluster size, config, network, the timeline
 * of faults). JSON, checked with zod so a bad file gets an error naming the field.
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'

const distribution = z.discriminatedUnion('type', [
  z.object({ type: z.literal('constant'), ms: z.number().min(0) }),
  z.object({ type: z.literal('uniform'), minMs: z.number().min(0), maxMs: z.number().min(0) }),
  z.object({ type: z.literal('normal'), meanMs: z.number().min(0), stdMs: z.number().min(0), minMs: z.number().min(0).optional() }),
  z.object({ type: z.literal('lognormal'), medianMs: z.number().min(0), sigma: z.number().min(0), minMs: z.number().min(0).optional() }),
  z.object({ type: z.literal('exponential'), meanMs: z.number().min(0), minMs: z.number().min(0).optional() })
])

const nodeSelection = {
  /** How many nodes, chosen at random among the non-seed up nodes. */
  count: z.number().int().min(1).optional(),
  /** Or exactly these node indices. */
  nodes: z.array(z.number().int().min(0)).optional()
}

const timing = {
  /** When, ms after the anchor. */
  atMs: z.number().min(0),
  /**
   * `converged` (default): after the cluster first converged following the joins (or after
   * joinTimeoutMs); `start`: after the simulation started.
   */
  anchor: z.enum(['start', 'converged']).default('converged')
}

const event = z.discriminatedUnion('action', [
  z.object({ action: z.literal('crash'), ...timing, ...nodeSelection }),
  z.object({ action: z.literal('restart'), ...timing, ...nodeSelection }),
  z.object({ action: z.literal('leave'), ...timing, ...nodeSelection }),
  z.object({ action: z.literal('pause'), ...timing, ...nodeSelection, durationMs: z.number().positive() }),
  z.object({
    action: z.literal('partition'),
    ...timing,
    /** Share of the nodes cut off from the rest, chosen at random. */
    fraction: z.number().gt(0).lt(1).optional(),
    /** Or explicit groups of node indices (unlisted nodes form one more group). */
    groups: z.array(z.array(z.number().int().min(0))).optional()
  }),
  z.object({ action: z.literal('heal'), ...timing }),
  z.object({ action: z.literal('loss'), ...timing, loss: z.number().min(0).max(1) })
])

export const scenarioSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  nodes: z.number().int().min(2).max(100_000),
  seed: z.number().int().default(1),
  /** Independent runs with derived seeds (detection percentiles are taken across them). */
  trials: z.number().int().min(1).max(1000).default(1),
  /** Simulated time after the anchor (join convergence), ms. */
  durationMs: z.number().positive(),
  /** Give up waiting for join convergence after this long, ms. */
  joinTimeoutMs: z.number().positive().default(600_000),
  preset: z.enum(['lan', 'wan', 'local']).default('lan'),
  /**
   * Member ids: `peer-id` gives 52-character ids shaped like libp2p Ed25519 PeerIds and one
   * 26-character address each, so frame sizes (and how many updates fit a frame) are those
   * of a real cluster; `short` gives `n0`, `n1`... and no address (less memory for 10,000 nodes).
   */
  ids: z.enum(['peer-id', 'short']).default('peer-id'),
  /** Overrides of protocols/swim's SwimConfig fields. */
  config: z.record(z.string(), z.number()).default({}),
  network: z.object({
    latency: distribution.default({ type: 'lognormal', medianMs: 1, sigma: 0.5 }),
    loss: z.number().min(0).max(1).default(0),
    linkSpread: z.number().min(0).max(1).default(0.3),
    retransmitMs: z.number().min(0).default(200),
    /** Each node's clock offset is uniform in ±maxOffsetMs. */
    maxClockOffsetMs: z.number().min(0).default(0),
    /** Each node's clock rate error is uniform in ±maxDriftPpm parts per million. */
    maxDriftPpm: z.number().min(0).max(100_000).default(0)
  }).prefault({}),
  join: z.object({
    /**
     * `gossip`: nodes join through the seeds and learn the cluster by push-pull and gossip
     * (the join storm is measured). `snapshot`: every node starts with the whole member list
     * restored (as a converged cluster restarting from snapshots would), so large clusters
     * skip the join storm and go straight to the fault timeline.
     */
    mode: z.enum(['gossip', 'snapshot']).default('gossip'),
    /** The first `seeds` nodes are the seeds every other node joins through. */
    seeds: z.number().int().min(1).default(1),
    /** Node starts are spread evenly over this long, ms. */
    spreadMs: z.number().min(0).default(0)
  }).prefault({}),
  events: z.array(event).default([]),
  measure: z.object({
    /**
     * Time after join convergence before message rates count as steady state, ms; the
     * window opens at the first timeline sample after it that finds every update queue empty.
     */
    settleMs: z.number().min(0).default(10_000),
    /** Timeline sample period, ms. */
    sampleEveryMs: z.number().positive().default(1000)
  }).prefault({}),
  /** Run the scenario once per cluster size (a scale sweep). */
  sweep: z.object({ nodes: z.array(z.number().int().min(2).max(100_000)).min(1) }).optional()
})

export type Scenario = z.output<typeof scenarioSchema>
export type ScenarioInput = z.input<typeof scenarioSchema>
export type ScenarioEvent = Scenario['events'][number]

/** A scenario file or value failed validation. */
export class ScenarioError extends Error {
  readonly source: string

  constructor (source: string, message: string, options?: { cause?: unknown }) {
    super(`scenario ${source}: ${message}`, options)
    this.name = 'ScenarioError'
    this.source = source
  }
}

/** Validates a scenario value. @throws {ScenarioError} naming the offending fields */
export function parseScenario (value: unknown, source = '(inline)'): Scenario {
  const result = scenarioSchema.safeParse(value)
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new ScenarioError(source, issues)
  }
  return result.data
}

/** Reads and validates a scenario file. @throws {ScenarioError} */
export async function loadScenario (path: string): Promise<Scenario> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ScenarioError(path, `cannot read: ${(err as Error).message}`, { cause: err })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ScenarioError(path, `not JSON: ${(err as Error).message}`, { cause: err })
  }
  return parseScenario(value, path)
}
