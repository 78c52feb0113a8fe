/**
 * Node-wide bounds on deploys (config section `quota`): agents, total agent memory, and
 * the largest limits one deploy may ask.
 *
 * @example
 * ```ts
 * const quota = new AgentQuota(config.quota, defaults)
 * const release = quota.reserve({ maxMemoryPages: 70000 }, agents)   // LimitTooHighError
 * ```
 */
export { AgentQuota, type QuotaConfig } from './quota.js'
export { AgentQuotaExceededError, LimitTooHighError, QUOTA_ERROR_STATUS } from './errors.js'
