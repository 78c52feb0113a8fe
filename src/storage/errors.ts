import { CaxtonError } from '../../protocols/errors.js'

/** The data folder could not be opened (in use by another node, unreadable, or from a newer version). */
export class StorageOpenError extends CaxtonError {
  readonly dataDir: string

  constructor (dataDir: string, reason: string, options?: { cause?: unknown }) {
    super('STORAGE_OPEN', `cannot open the node's database in ${dataDir}: ${reason}`, options)
    this.name = 'StorageOpenError'
    this.dataDir = dataDir
  }
}

/** A stored record could not be decoded (corruption, or a bug that wrote it). */
export class StorageCorruptError extends CaxtonError {
  readonly key: string

  constructor (key: string, reason: string) {
    super('STORAGE_CORRUPT', `stored record ${key} is unreadable: ${reason}`)
    this.name = 'StorageCorruptError'
    this.key = key
  }
}
