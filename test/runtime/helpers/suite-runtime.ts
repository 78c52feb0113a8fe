/**
 * One runtime with one worker for the enclosing `describe`: started in its `before`,
 * stopped in its `after` together with the WAT compiler (helpers/wat.ts). `use` receives
 * the started runtime (the suite keeps it in its own variable).
 */
import { createAgentRuntime, type AgentRuntime, type RuntimeHost } from '../../../src/runtime/index.js'
import { closeWat } from './wat.js'

export function runtimeForSuite (host: RuntimeHost, use: (runtime: AgentRuntime) => void): void {
  let runtime: AgentRuntime | undefined
  before(async () => {
    runtime = createAgentRuntime({ host, workers: 1 })
    await runtime.start()
    use(runtime)
  })
  after(async () => {
    await runtime?.stop()
    await closeWat()
  })
}
