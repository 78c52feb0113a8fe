/**
 * Structured logs (pino), one child logger per component, named `caxton:<area>[:<part>]`.
 * Nothing in `src/` writes to `console`; the CLI's human output is the only exception.
 */
import { pino, type Logger } from 'pino'

export type { Logger }

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel
  /** Where JSON lines go: a file descriptor. @default 2 (stderr; stdout is for the CLI's own output) */
  fd?: number
  /** Fields added to every line (e.g. `{ node: 'n1' }`). */
  base?: Record<string, unknown>
}

/** Creates the root logger of a process. */
export function createLogger (options: LoggerOptions = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime
  }, pino.destination({ fd: options.fd ?? 2, sync: false }))
}

/** A logger that drops everything: the default for components under test. */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}

/** The child logger of a component, e.g. `componentLogger(root, 'router')` → `caxton:router`. */
export function componentLogger (root: Logger, component: string): Logger {
  return root.child({ component: `caxton:${component}` })
}
