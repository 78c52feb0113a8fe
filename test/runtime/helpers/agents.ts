/**
 * The example agents as built by `npm run build:agents` (dist/agents/<name>.wasm),
 * rebuilt here when missing or older than their sources, so the runtime tests also work
 * when mocha is run without `npm test`'s build step.
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { EXAMPLES_DIR, OUT_DIR, buildExample } from '../../../agents/build.mjs'

const SDK_DIR = join(EXAMPLES_DIR, '..', 'sdk')

async function newestSource (dirs: string[]): Promise<number> {
  let newest = 0
  for (const dir of dirs) {
    for (const f of await readdir(dir)) newest = Math.max(newest, (await stat(join(dir, f))).mtimeMs)
  }
  return newest
}

const built = new Map<string, Promise<Uint8Array>>()

/** The module of example agent `name` (echo, counter). */
export async function exampleAgent (name: string): Promise<Uint8Array> {
  let p = built.get(name)
  if (p === undefined) {
    p = (async () => {
      const out = join(OUT_DIR, `${name}.wasm`)
      const sources = await newestSource([SDK_DIR, join(EXAMPLES_DIR, name)])
      const fresh = await stat(out).then(s => s.mtimeMs >= sources, () => false)
      if (!fresh) await buildExample(name)
      return new Uint8Array(await readFile(out))
    })()
    built.set(name, p)
  }
  return await p
}
