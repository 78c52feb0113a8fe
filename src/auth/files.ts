/**
 * The two files a node leaves in its data folder for the CLI on the same machine:
 * `admin.token` (the bootstrap admin token, mode 0600) and `api.json` (where its REST API
 * listens, `{ "url": "http://127.0.0.1:7420" }`, rewritten at every start). With both, a
 * `caxton` command run from the folder the node was started in finds the token for the
 * node it calls without being given one ({@link findLocalAdminToken}).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { writeSecretFile } from '../storage/secret-file.js'

/** File name of the bootstrap admin token in a node's data folder. */
export const ADMIN_TOKEN_FILE = 'admin.token'

/** File name of the REST API's address in a node's data folder. */
export const API_FILE = 'api.json'

/** Where `caxton node start` keeps data folders by default (`.caxton/<name>`), relative to its working folder. */
export const DEFAULT_DATA_ROOT = '.caxton'

/** Records where the node's REST API listens (`api.json`). */
export async function writeApiFile (dataDir: string, url: string): Promise<void> {
  await writeSecretFile(join(dataDir, API_FILE), JSON.stringify({ url }) + '\n', { overwrite: true })
}

/** Hosts meaning "every interface" (a client reaches them on loopback), and loopback spellings. */
const SAME_HOST: ReadonlyMap<string, string> = new Map([
  ['0.0.0.0', '127.0.0.1'], ['[::]', '127.0.0.1'], ['[::1]', '127.0.0.1'], ['localhost', '127.0.0.1']
])

/** `https://0.0.0.0:7420/` and `https://localhost:7420` → `https://127.0.0.1:7420`; undefined if not a URL. */
function normalised (url: string): string | undefined {
  try {
    const u = new URL(url)
    const host = SAME_HOST.get(u.hostname) ?? u.hostname
    return `${u.protocol}//${host}:${u.port !== '' ? u.port : (u.protocol === 'https:' ? '443' : '80')}`
  } catch {
    return undefined
  }
}

/**
 * The admin token of a node on this machine whose REST API is `apiUrl`, looked for in
 * `dataDirs` (each a node's data folder) and in every folder under `<cwd>/.caxton/`.
 * A folder counts when its `api.json` names the same address (a wildcard or `localhost`
 * matches loopback) and its `admin.token` can be read.
 * @returns the token, and the file it came from; undefined when none matches
 */
export function findLocalAdminToken (apiUrl: string, options: { cwd: string, dataDirs?: string[] }): { token: string, file: string } | undefined {
  const want = normalised(apiUrl)
  if (want === undefined) return undefined
  const root = resolve(options.cwd, DEFAULT_DATA_ROOT)
  const candidates = [...(options.dataDirs ?? []).map(d => resolve(options.cwd, d))]
  try {
    for (const entry of readdirSync(root, { withFileTypes: true })) if (entry.isDirectory()) candidates.push(join(root, entry.name))
  } catch {
    // no .caxton folder here
  }
  for (const dir of candidates) {
    try {
      const { url } = JSON.parse(readFileSync(join(dir, API_FILE), 'utf8')) as { url?: unknown }
      if (typeof url !== 'string' || normalised(url) !== want) continue
      const file = join(dir, ADMIN_TOKEN_FILE)
      const token = readFileSync(file, 'utf8').trim()
      if (token !== '') return { token, file }
    } catch {
      // not a node's folder, or not ours to read
    }
  }
  return undefined
}
