import { open } from 'node:fs/promises'

/** Mode of files holding secrets (keys, tokens): read and write for the owner only. */
export const SECRET_FILE_MODE = 0o600

/**
 * Writes a secret (a key, a token) to `path` with mode 0600, whatever the umask. An
 * existing file replaced with `overwrite` is narrowed to 0600 before the secret is written
 * into it.
 * @param options.overwrite replace an existing file. @default false
 * @throws the file system's error: `EEXIST` when the file exists and `overwrite` is false
 */
export async function writeSecretFile (path: string, data: string | Uint8Array, options: { overwrite?: boolean } = {}): Promise<void> {
  const handle = await open(path, options.overwrite === true ? 'w' : 'wx', SECRET_FILE_MODE)
  try {
    await handle.chmod(SECRET_FILE_MODE)
    await handle.writeFile(data)
  } finally {
    await handle.close()
  }
}
