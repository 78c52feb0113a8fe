/**
 * Membership on real processes: five `caxton node start` processes on loopback.
 * kill -9 one → every survivor marks it dead; restart it on the same data folder → alive
 * again everywhere, at a higher incarnation, without an operator; SIGSTOP one until a
 * survivor suspects it (well under the suspicion timeout), SIGCONT → it refutes and no
 * survivor ever marks it dead.
 *
 * Settings: the `local` preset with probes every 500 ms, so that a stalled member is
 * suspected quickly; suspicionMult 6 puts the suspicion timeout at 3 s (6 × 500 ms, N < 10).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MemberListJson } from '../../src/api/facade.js'
import { apiFetch, startNodeProcess, startNodeProcesses, waitFor, type NodeProcess } from '../../sim/cluster/index.js'

const MEMBERSHIP = { probeIntervalMs: 500, probeTimeoutMs: 150, suspicionMult: 6 }
const SUSPICION_MS = MEMBERSHIP.suspicionMult * MEMBERSHIP.probeIntervalMs

async function members (node: NodeProcess): Promise<MemberListJson> {
  const res = await apiFetch(node, '/cluster/members', { signal: AbortSignal.timeout(2000) })
  assert.equal(res.status, 200)
  return await res.json() as MemberListJson
}

async function stateOf (node: NodeProcess, id: string): Promise<{ state?: string, incarnation?: number }> {
  const m = (await members(node)).members.find(x => x.id === id)
  return { state: m?.state, incarnation: m?.incarnation }
}

async function counter (node: NodeProcess, name: string): Promise<number> {
  const text = await (await apiFetch(node, '/metrics', { signal: AbortSignal.timeout(2000) })).text()
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  assert.ok(m !== null, `${name} is exported`)
  return Number(m[1])
}

describe('e2e: membership across five node processes', function () {
  this.timeout(120_000)
  const nodes: NodeProcess[] = []

  after(async () => {
    for (const n of nodes) if (n.child.signalCode === null && n.child.exitCode === null) n.child.kill('SIGCONT')
    await Promise.all(nodes.map(async n => await n.stop('SIGKILL')))
  })

  it('detects a kill -9, takes the node back after a restart, and does not kill a node stalled for less than the suspicion timeout', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'caxton-e2e-swim-')), 'config.json')
    writeFileSync(config, JSON.stringify({ membership: MEMBERSHIP }))
    const args = ['--config', config]
    const n1 = await startNodeProcess({ name: 'n1', args })
    nodes.push(n1)
    // Four cold starts at once on 2 cores took 10.4-13.6 s to be ready (three rounds), and
    // over 15 s for one of them in a full test run: a longer wait, and none left running if
    // one fails (they kept mocha from exiting).
    nodes.push(...await startNodeProcesses(['n2', 'n3', 'n4', 'n5'].map(name => ({ name, join: [n1.multiaddrs[0]], args, timeoutMs: 60_000 }))))
    const ids = nodes.map(n => n.peerId)
    await waitFor('every node to hold all five alive', async () => {
      for (const n of nodes) {
        const alive = (await members(n)).members.filter(m => m.state === 'alive').map(m => m.id)
        if (alive.length !== 5 || !ids.every(id => alive.includes(id))) return undefined
      }
      return true
    }, 20_000, 200)

    // kill -9: no leave, no closing handshake. Every survivor must find out by probing.
    let victim = nodes[4]
    const survivors = nodes.slice(0, 4)
    const before = (await stateOf(n1, victim.peerId)).incarnation ?? 0
    victim.child.kill('SIGKILL')
    await victim.stop()
    await waitFor('every survivor to mark the killed node dead', async () => {
      for (const n of survivors) if ((await stateOf(n, victim.peerId)).state !== 'dead') return undefined
      return true
    }, 30_000, 200)

    // Restart on the same data folder: same PeerId; it rejoins and is alive everywhere again.
    victim = await startNodeProcess({ name: 'n5', dataDir: victim.dataDir, join: [n1.multiaddrs[0]], args })
    nodes[4] = victim
    assert.equal(victim.peerId, ids[4])
    await waitFor('every survivor to hold the restarted node alive', async () => {
      for (const n of survivors) {
        const s = await stateOf(n, victim.peerId)
        if (s.state !== 'alive' || (s.incarnation ?? 0) <= before) return undefined
      }
      return true
    }, 20_000, 200)
    await waitFor('the restarted node to hold everyone alive', async () =>
      (await members(victim)).counts.alive === 5 ? true : undefined, 10_000, 200)

    // SIGSTOP, until a survivor suspects it (the stall outlasts a probe, not the suspicion
    // timeout); SIGCONT. A stall that drew no suspicion proves nothing, so up to three tries.
    const stalled = nodes[2]
    const deathsBefore = await Promise.all(nodes.map(async n => n === stalled ? 0 : await counter(n, 'caxton_membership_deaths_total')))
    const refutationsBefore = await counter(stalled, 'caxton_membership_refutations_total')
    let suspected = false
    for (let attempt = 0; attempt < 3 && !suspected; attempt++) {
      const stoppedAt = Date.now()
      stalled.child.kill('SIGSTOP')
      try {
        suspected = await waitFor('a survivor to suspect the stalled node', async () => {
          for (const n of nodes) {
            if (n !== stalled && (await stateOf(n, stalled.peerId)).state === 'suspect') return true
          }
          return undefined
        }, 2500, 50).catch(() => false)
      } finally {
        stalled.child.kill('SIGCONT')
      }
      assert.ok(Date.now() - stoppedAt < SUSPICION_MS, `stalled ${Date.now() - stoppedAt} ms, less than the suspicion timeout (${SUSPICION_MS} ms)`)
    }
    assert.ok(suspected, 'a survivor suspected the stalled node')
    // It refutes (a higher incarnation), and the refutation reaches everyone.
    await waitFor('the stalled node to refute and every other node to hold it alive at its new incarnation', async () => {
      const own = (await members(stalled)).incarnation
      if (await counter(stalled, 'caxton_membership_refutations_total') <= refutationsBefore) return undefined
      for (const n of nodes) {
        if (n === stalled) continue
        const s = await stateOf(n, stalled.peerId)
        if (s.state !== 'alive' || s.incarnation !== own) return undefined
      }
      return true
    }, 15_000, 100)
    const deathsAfter = await Promise.all(nodes.map(async n => n === stalled ? 0 : await counter(n, 'caxton_membership_deaths_total')))
    assert.deepEqual(deathsAfter, deathsBefore, 'no node declared anyone dead')
    for (const n of nodes) assert.equal((await members(n)).counts.dead, 0, `${n.name} holds nobody dead`)
  })
})
