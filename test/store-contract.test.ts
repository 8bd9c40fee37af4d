// Every store the package ships passes the store contract (helpers/store-contract.ts).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { SharedMemoryStore } from '../src/index.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { storeContract } from './helpers/store-contract.js'

storeContract('LevelDB on disk', {
  async create() {
    const folder = await mkdtemp(join(tmpdir(), 'changesources-contract-'))
    const db = new Level<string, string>(join(folder, 'db'))
    await db.open()
    const store = await LevelLogStore.open(db, { sync: false, owned: true })
    return {
      store,
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
    return { store: await LevelLogStore.open(db, { sync: false }), dispose: () => db.close() }
  },
})

storeContract('shared memory store', {
  async create() {
    return { store: new SharedMemoryStore(), async dispose() {} }
  },
})
