/**
 * Polyfills that must run before libp2p is imported.
 *
 * libp2p 3's dependencies call `Promise.withResolvers` (ES2024, Node >= 22). Node 20
 * lacks it, and a node would crash with `TypeError: Promise.withResolvers is not a
 * function` on its first dial. Every entry point imports this module first.
 */
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (this: PromiseConstructor): PromiseWithResolvers<T> {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new this<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

export {}
