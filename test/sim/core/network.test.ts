import assert from 'node:assert/strict'
import { SimNetwork, sample } from '../../../sim/core/network.js'
import type { NetworkOptions, ProcessContext, SimProcess } from '../../../sim/core/network.js'
import { Prng } from '../../../sim/core/prng.js'
import { Simulator } from '../../../sim/core/simulator.js'

/** Records what it receives and when its timer fires; sends on request. */
class Recorder implements SimProcess {
  readonly log: string[] = []
  ctx?: ProcessContext
  onStart?: (ctx: ProcessContext) => void
  onWake?: (ctx: ProcessContext) => void

  start (ctx: ProcessContext): void { this.ctx = ctx; this.onStart?.(ctx) }
  receive (from: string, bytes: Uint8Array, ctx: ProcessContext): void { this.log.push(`${from}:${bytes[0]}@${Math.round(ctx.now())}`) }
  wake (ctx: ProcessContext): void { this.log.push(`wake@${Math.round(ctx.now())}`); this.onWake?.(ctx) }
}

function setup (options: NetworkOptions = {}): { sim: Simulator, net: SimNetwork, a: Recorder, b: Recorder } {
  const sim = new Simulator(42)
  const net = new SimNetwork(sim, { latency: { type: 'constant', ms: 10 }, ...options })
  const a = new Recorder()
  const b = new Recorder()
  net.add('a', a)
  net.add('b', b)
  return { sim, net, a, b }
}

describe('sim/core network', () => {
  it('delivers after the link latency', () => {
    const { sim, a, b } = setup()
    a.ctx?.send('b', new Uint8Array([1]))
    sim.run({ until: 100 })
    assert.deepEqual(b.log, ['a:1@10'])
  })

  it('draws latencies from the configured distributions', () => {
    const r = new Prng(1)
    const mean = (f: () => number): number => { let s = 0; for (let i = 0; i < 20_000; i++) s += f(); return s / 20_000 }
    assert.equal(sample({ type: 'constant', ms: 3 }, r), 3)
    assert.ok(Math.abs(mean(() => sample({ type: 'uniform', minMs: 2, maxMs: 4 }, r)) - 3) < 0.05)
    assert.ok(Math.abs(mean(() => sample({ type: 'exponential', meanMs: 2, minMs: 1 }, r)) - 3) < 0.1)
    const logn = Array.from({ length: 20_001 }, () => sample({ type: 'lognormal', medianMs: 5, sigma: 0.5 }, r)).sort((x, y) => x - y)
    assert.ok(Math.abs(logn[10_000] - 5) < 0.2, 'median')
    assert.ok(Array.from({ length: 1000 }, () => sample({ type: 'normal', meanMs: 1, stdMs: 5 }, r)).every((x) => x >= 0))
  })

  it('loses about the configured share of datagrams, but delays rather than loses reliable messages, in order', () => {
    const { sim, net, a, b } = setup({ loss: 0.3, retransmitMs: 100 })
    for (let i = 0; i < 1000; i++) a.ctx?.send('b', new Uint8Array([i % 256]))
    sim.run({ until: 10_000 })
    assert.ok(b.log.length > 620 && b.log.length < 780, `${b.log.length} of 1000 arrived`)
    assert.ok(net.stats.dropped.loss > 220)
    b.log.length = 0
    for (let i = 0; i < 200; i++) a.ctx?.send('b', new Uint8Array([i]), { reliable: true })
    sim.run({ until: 100_000 })
    assert.equal(b.log.length, 200, 'a stream loses nothing short of 7 losses in a row')
    assert.deepEqual(b.log.map((l) => Number(l.split(':')[1].split('@')[0])), Array.from({ length: 200 }, (_, i) => i))
    const times = b.log.map((l) => Number(l.split('@')[1]))
    assert.ok(times.some((t) => t > 10_000 + 100), 'some were retransmitted')
  })

  it('drops messages across a partition, including those in flight, until healed', () => {
    const { sim, net, a, b } = setup()
    a.ctx?.send('b', new Uint8Array([1]))
    sim.run({ until: 5 })
    net.partition([['a']])
    assert.equal(net.reachable('a', 'b'), false)
    sim.run({ until: 50 })
    a.ctx?.send('b', new Uint8Array([2]))
    sim.run({ until: 100 })
    net.heal()
    a.ctx?.send('b', new Uint8Array([3]))
    sim.run({ until: 200 })
    assert.deepEqual(b.log, ['a:3@110'])
    assert.equal(net.stats.dropped.partition, 2)
  })

  it('loses messages to a crashed process and starts a restarted one afresh', () => {
    const { sim, net, a } = setup()
    const b2 = new Recorder()
    net.crash('b')
    a.ctx?.send('b', new Uint8Array([1]))
    sim.run({ until: 50 })
    assert.equal(net.stats.dropped.down, 1)
    net.restart('b', b2)
    a.ctx?.send('b', new Uint8Array([2]))
    sim.run({ until: 100 })
    assert.deepEqual(b2.log, ['a:2@60'])
  })

  it('stalls a paused process: on resume its overdue timer fires first, then the queued messages in order', () => {
    const { sim, net, a, b } = setup()
    b.ctx?.wakeAt(30)
    net.pause('b')
    a.ctx?.send('b', new Uint8Array([1]))
    sim.at(20, () => a.ctx?.send('b', new Uint8Array([2])))
    sim.run({ until: 100 })
    assert.deepEqual(b.log, [])
    net.resume('b')
    assert.deepEqual(b.log, ['wake@100', 'a:1@100', 'a:2@100'])
  })

  it('gives each process its own skewed, drifting clock and converts its timers', () => {
    const sim = new Simulator(1)
    const net = new SimNetwork(sim, { latency: { type: 'constant', ms: 1 } })
    const p = new Recorder()
    p.onStart = (ctx) => { ctx.wakeAt(ctx.now() + 1000) }
    net.add('p', p, { offsetMs: 5000, drift: 0.01 })
    assert.equal(net.localTime('p'), 5000)
    sim.run({ until: 10_000 })
    // 1000 ms of its clock are 1000 / 1.01 ms of virtual time
    assert.deepEqual(p.log, ['wake@6000'])
    assert.ok(Math.abs(net.localTime('p') - (5000 + 10_000 * 1.01)) < 1e-6)
  })

  it('applies per-link rules and spreads link latencies', () => {
    const sim = new Simulator(3)
    const net = new SimNetwork(sim, { latency: { type: 'constant', ms: 10 }, linkSpread: 0.5 })
    const ps = ['a', 'b', 'c'].map((id) => { const p = new Recorder(); net.add(id, p); return p })
    net.setRules([{ from: (id) => id === 'a', to: (id) => id === 'c', latency: { type: 'constant', ms: 500 } }])
    ps[0].ctx?.send('b', new Uint8Array([1]))
    ps[0].ctx?.send('c', new Uint8Array([1]))
    ps[1].ctx?.send('a', new Uint8Array([1]))
    sim.run({ until: 2000 })
    const tb = Number(ps[1].log[0].split('@')[1])
    const ta = Number(ps[0].log[0].split('@')[1])
    assert.ok(tb >= 5 && tb <= 15)
    assert.equal(ta, tb, 'a link is symmetric')
    const tc = Number(ps[2].log[0].split('@')[1])
    assert.ok(tc >= 250 && tc <= 750)
  })
})
