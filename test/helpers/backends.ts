/**
 * The storage backends every component suite runs against: memory-level, and LevelDB on disk in a
 * temporary folder. A suite gets a fresh, empty store before each test and loses it after.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLevel } from 'memory-level'
import { suite, type Test } from 'uvu'
import { randomBytes } from 'node:crypto'
import { ChangeSources, SharedMemoryStore, type OpenOptions } from '../../src/index.js'
import { dropSchema, testPostgres } from './postgres.js'

export interface TestStore {
  readonly backend: string
  /** Opens the component on this store (again, after a close: the data stays). */
  open(options?: Omit<OpenOptions, 'db' | 'location' | 'store' | 'postgres'>): Promise<ChangeSources>
  /** The options that reach this store, for tests that call ChangeSources.open themselves. */
  readonly where: Pick<OpenOptions, 'db' | 'location' | 'store' | 'postgres'>
  dispose(): Promise<void>
}

interface Backend {
  readonly name: string
  create(): Promise<TestStore>
}

function tracking(backend: string, where: Pick<OpenOptions, 'db' | 'location' | 'store' | 'postgres'>, cleanup: () => Promise<void>): TestStore {
  const opened: ChangeSources[] = []
  return {
    backend,
    where,
    async open(options = {}) {
      const component = await ChangeSources.open({ ...options, ...where })
      opened.push(component)
      return component
    },
    async dispose() {
      await Promise.allSettled(opened.map((component) => component.close()))
      await cleanup()
    },
  }
}

export const memoryBackend: Backend = {
  name: 'memory-level',
  async create() {
    const db = new MemoryLevel()
    return tracking('memory-level', { db }, () => db.close())
  },
}

export const diskBackend: Backend = {
  name: 'LevelDB on disk',
  async create() {
    const folder = await mkdtemp(join(tmpdir(), 'changesources-test-'))
    return tracking('LevelDB on disk', { location: join(folder, 'db') }, () => rm(folder, { recursive: true, force: true }))
  },
}

export const sharedMemoryBackend: Backend = {
  name: 'shared memory store',
  async create() {
    return tracking('shared memory store', { store: new SharedMemoryStore() }, async () => {})
  },
}

export const postgresBackend: Backend = {
  name: 'PostgreSQL',
  async create() {
    const { url } = await testPostgres()
    const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
    return tracking('PostgreSQL', { postgres: { connectionString: url, schema, pollIntervalMs: 100 } }, () => dropSchema(schema))
  },
}

export const backends: readonly Backend[] = [memoryBackend, diskBackend, sharedMemoryBackend, postgresBackend]

export interface StoreContext {
  store: TestStore
}

/**
 * Defines the same suite once per backend, each test with a fresh store in `context.store`.
 * `levelOnly`: for suites that reach into LevelDB's keys (a damaged record, a snapshot part).
 */
export function onEachBackend(title: string, define: (test: Test<StoreContext>) => void, options: { levelOnly?: boolean } = {}): void {
  for (const backend of options.levelOnly === true ? [memoryBackend, diskBackend] : backends) {
    const test = suite<StoreContext>(`${title} [${backend.name}]`, {} as StoreContext)
    test.before.each(async (context) => {
      context.store = await backend.create()
    })
    test.after.each(async (context) => {
      await context.store.dispose()
    })
    define(test)
    test.run()
  }
}

/** Waits until pending promise callbacks and timers of this turn have run. */
export function settle(milliseconds = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

/**
 * Waits until `condition()` holds, checking every few milliseconds; fails after `timeoutMs`. For
 * what a test knows will happen but not when (a catch-up read on a loaded machine), so that the
 * test waits on the event rather than on a guess of how long it takes.
 */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await settle(2)
  }
}
