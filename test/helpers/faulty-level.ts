/**
 * A memory-level database that fails on demand, for fault injection.
 *
 * Writes: every write reaches `_batch` (abstract-level's default chained batch, which memory-level
 * uses, writes through it too, and `_put` is routed to it here), so one override covers
 * `db.put()`, `db.batch([...])` and `db.batch().write()`.
 * Reads: `_iterator`, `_keys` and `_values` return iterators whose reads reject when armed.
 */
import { MemoryLevel } from 'memory-level'

export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected fault: ${what}`)
    this.name = 'InjectedFault'
  }
}

type WriteFault = { kind: 'fail'; error: Error } | { kind: 'ghost'; error: Error } | { kind: 'hold'; until: Promise<void>; error: Error | undefined }

// The underscore methods are abstract-level's implementation interface: real, but not in its types.
interface Internals {
  _put(key: unknown, value: unknown, options: unknown): Promise<void>
  _batch(operations: unknown, options: unknown): Promise<void>
  _iterator(options: unknown): object
  _keys(options: unknown): object
  _values(options: unknown): object
}
const Base = MemoryLevel as unknown as new (options: object) => MemoryLevel<string, string> & Internals

export class FaultyLevel extends Base {
  readonly #writeFaults: WriteFault[] = []
  #readFaults = new Map<number, Error>()
  #iterators = 0
  #allReads: Error | undefined
  /** Batches that reached the database, failed or not. */
  writes = 0

  constructor() {
    super({ keyEncoding: 'utf8', valueEncoding: 'utf8' })
  }

  /** The next write fails, and nothing of it is stored. */
  failNextWrite(error: Error = new InjectedFault('write failed')): Error {
    this.#writeFaults.push({ kind: 'fail', error })
    return error
  }

  /** The next write is stored, then reported as failed (a lost acknowledgement: an fsync error after the write). */
  ghostNextWrite(error: Error = new InjectedFault('write reported as failed after it was stored')): Error {
    this.#writeFaults.push({ kind: 'ghost', error })
    return error
  }

  /** The next write waits for `until`, then fails with `error` or, without one, succeeds. */
  holdNextWrite(until: Promise<void>, error?: Error): void {
    this.#writeFaults.push({ kind: 'hold', until, error })
  }

  /** The iterator created `skip` iterators from now fails on its first read. */
  failRead(skip = 0, error: Error = new InjectedFault('read failed')): Error {
    this.#readFaults.set(this.#iterators + skip, error)
    return error
  }

  /** Every read fails until healReads(). */
  failAllReads(error: Error = new InjectedFault('every read fails')): Error {
    this.#allReads = error
    return error
  }

  healReads(): void {
    this.#allReads = undefined
  }

  /** How many iterators (of any kind) were created so far. */
  get iterators(): number {
    return this.#iterators
  }

  override async _put(key: unknown, value: unknown, options: unknown): Promise<void> {
    await this._batch([{ type: 'put', key, value }], options)
  }

  override async _batch(operations: unknown, options: unknown): Promise<void> {
    this.writes++
    const fault = this.#writeFaults.shift()
    if (fault?.kind === 'fail') throw fault.error
    if (fault?.kind === 'hold') {
      await fault.until
      if (fault.error !== undefined) throw fault.error
    }
    await super._batch(operations, options)
    if (fault?.kind === 'ghost') throw fault.error
  }

  override _iterator(options: unknown): object {
    return this.#armed(super._iterator(options))
  }

  override _keys(options: unknown): object {
    return this.#armed(super._keys(options))
  }

  override _values(options: unknown): object {
    return this.#armed(super._values(options))
  }

  #armed<I extends object>(iterator: I): I {
    const index = this.#iterators++
    if (!this.#readFaults.has(index) && this.#allReads === undefined) return iterator
    const error = this.#readFaults.get(index)
    this.#readFaults.delete(index)
    const fail = async (): Promise<never> => {
      throw error ?? this.#allReads
    }
    Object.assign(iterator, { _next: fail, _nextv: fail, _all: fail })
    return iterator
  }
}
