// Every store the package ships passes the store contract (helpers/store-contract.ts).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { SharedMemoryStore } from '../src/index.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { storeContract } from './helpers/store-contract.js'
import { dropSchema, testPostgres } from './helpers/postgres.js'
import { randomBytes } from 'node:crypto'
import { PostgresLogStore } from '../src/stores/postgres/postgres-log-store.js'

storeContract('LevelDB on disk', {
  async create() {
    const folder = await mkdtemp(join(tmpdir(), 'changesources-contract-'))
    const db = new Level<string, string>(join(folder, 'db'))
    await db.open()
    const store = await LevelLogStore.open(db, { sync: false, owned: true })
    return {
      store,
      async reopen() {
        await db.close()
        await db.open()
        return LevelLogStore.open(db, { sync: false, owned: true })
      },
      async dispose() {
        await db.close()
        await rm(folder, { recursive: true, force: true })
      },
    }
  },
})

storeContract('memory-level', {
  async create() {
    const db = new MemoryLevel<string, string>()
    await db.open()
    return { store: await LevelLogStore.open(db, { sync: false }), reopen: () => LevelLogStore.open(db, { sync: false }), dispose: () => db.close() }
  },
})

storeContract('shared memory store', {
  async create() {
    const store = new SharedMemoryStore()
    return { store, reopen: async () => store, another: async () => store, async dispose() {} }
  },
})

storeContract('PostgreSQL', {
  takesTurns: true,
  async create() {
    const { url } = await testPostgres()
    const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
    const opened: PostgresLogStore[] = []
    const open = async () => {
      const store = await PostgresLogStore.open({ connectionString: url, schema, pollIntervalMs: 50 }, { sync: true })
      opened.push(store)
      return store
    }
    return {
      store: await open(),
      reopen: open,
      another: open,
      async dispose() {
        for (const store of opened) await store.close()
        await dropSchema(schema)
      },
    }
  },
})
