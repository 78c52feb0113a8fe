/**
 * Real multi-process clusters on loopback: start `caxton node start` processes, run the
 * CLI, wait for conditions with a bound.
 *
 * @example
 * ```ts
 * const n1 = await startNodeProcess({ name: 'n1' })
 * const n2 = await startNodeProcess({ name: 'n2', join: [n1.multiaddrs[0]] })
 * await n2.stop()
 * ```
 */
export * from './process.js'
