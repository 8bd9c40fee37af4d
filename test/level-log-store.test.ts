// The log store behind its small interface: append after an expected head, read a range in order.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AppendConflictError, ErrorCode } from '../src/index.js'
import { LevelLogStore, type AnyLevel } from '../src/stores/level/level-log-store.js'
import type { StoredEntry } from '../src/stores/log-store.js'
import { rejectsWith } from './helpers/assertions.js'

const databases: Array<[string, () => Promise<{ db: AnyLevel; dispose: () => Promise<void> }>]> = [
  ['memory-level', async () => {
    const db = new MemoryLevel()
    return { db, dispose: () => db.close() }
  }],
  ['LevelDB on disk', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'changesources-store-'))
    const db = new Level(join(folder, 'db'))
    return { db, dispose: async () => { await db.close(); await rm(folder, { recursive: true, force: true }) } }
  }],
]

const entries = (from: number, to: number): StoredEntry[] => Array.from({ length: to - from + 1 }, (_, index) => ({ seq: from + index, value: `record ${from + index}` }))

async function readAll(store: LevelLogStore, range: { from: number; to?: number }): Promise<StoredEntry[]> {
  const all: StoredEntry[] = []
  for await (const chunk of store.read(range)) all.push(...chunk)
  return all
}

for (const [name, open] of databases) {
  const test = suite(`log store [${name}]`)

  /** Runs `body` on a fresh store over a fresh database of this kind, disposed of afterwards. */
  async function withStore(body: (store: LevelLogStore, db: AnyLevel) => Promise<void>): Promise<void> {
    const { db, dispose } = await open()
    try {
      await db.open()
      await body(await LevelLogStore.open(db, { sync: false }), db)
    } finally {
      await dispose()
    }
  }

  test('appends after the expected head and reads any range back in seq order, across chunks', () =>
    withStore(async (store, db) => {
      assert.is(await store.head(), 0)
      await store.append(entries(1, 1500), 0)
      await store.append(entries(1501, 2500), 1500)
      assert.is(await store.head(), 2500)
      assert.equal(await readAll(store, { from: 1 }), entries(1, 2500))
      assert.equal(await readAll(store, { from: 999, to: 1002 }), entries(999, 1002))
      assert.equal(await readAll(store, { from: 2501 }), [])
      const reopened = await LevelLogStore.open(db, { sync: false })
      assert.is(await reopened.head(), 2500)
    }),
  )

  test('an append after another head stores nothing and answers with the head', () =>
    withStore(async (store) => {
      await store.append(entries(1, 3), 0)
      assert.equal(await store.append(entries(3, 4), 2), { appended: false, head: 3 })
      assert.is(await store.head(), 3)
      assert.equal(await readAll(store, { from: 1 }), entries(1, 3))
    }),
  )

  test('snapshot parts are written apart from the log, all at once; a part with a null value is deleted', () =>
    withStore(async (store) => {
      const parts = async (prefix: string) => {
        const all: Array<{ name: string; value: string }> = []
        for await (const chunk of store.readSnapshot(prefix)) all.push(...chunk)
        return all
      }
      await store.append(entries(1, 1), 0)
      await store.writeSnapshot([
        { name: 'page!1', value: 'one' },
        { name: 'page!2', value: 'two' },
        { name: 'head', value: 'h1' },
      ])
      await store.append(entries(2, 2), 1)
      await store.writeSnapshot([
        { name: 'page!1', value: null },
        { name: 'page!3', value: 'three' },
        { name: 'head', value: 'h2' },
      ])
      assert.equal(await parts('page!'), [
        { name: 'page!2', value: 'two' },
        { name: 'page!3', value: 'three' },
      ])
      assert.equal(await parts('head'), [{ name: 'head', value: 'h2' }])
      assert.equal(await readAll(store, { from: 1 }), entries(1, 2))
    }),
  )

  test.run()
}
