import { readFile } from 'node:fs/promises'
import { ConfigError, type CaxtonConfig } from '../config/index.js'
import type { ApiServerOptions } from './server.js'

/**
 * The server options that follow from the config's `api` section: TLS (the PEM files
 * read now), accepted host names, timeouts and the rate limit.
 * @throws ConfigError naming `api.tlsCertFile` or `api.tlsKeyFile` when a file cannot be read
 */
export async function apiSettings (api: CaxtonConfig['api']): Promise<Pick<ApiServerOptions, 'tls' | 'allowedHosts' | 'timeouts' | 'rateLimit' | 'bodyLimitBytes'>> {
  const settings: Pick<ApiServerOptions, 'tls' | 'allowedHosts' | 'timeouts' | 'rateLimit' | 'bodyLimitBytes'> = {
    bodyLimitBytes: api.bodyLimitBytes,
    allowedHosts: api.allowedHosts,
    timeouts: { requestMs: api.requestTimeoutMs, headersMs: api.headersTimeoutMs, keepAliveMs: api.keepAliveTimeoutMs },
    rateLimit: { max: api.rateLimitMax, windowMs: api.rateLimitWindowMs }
  }
  if (api.tlsCertFile !== '') {
    settings.tls = { cert: await pem(api.tlsCertFile, 'api.tlsCertFile'), key: await pem(api.tlsKeyFile, 'api.tlsKeyFile') }
  }
  return settings
}

async function pem (path: string, key: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw new ConfigError(key, `cannot read ${path}: ${(err as Error).message}`, 'the file system')
  }
}
