/**
 * The promises every log store keeps (src/stores/log-store.ts), as one suite run against each
 * store by a factory, in the manner of abstract-level's test suite: a third party's store passes
 * it too. The factory gives a fresh, empty store and a way to dispose of it.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorCode, type AppendOutcome, type LogStore, type StoredEntry } from '../../src/index.js'
import { rejectsWith } from './assertions.js'

export interface StoreFactory {
  /**
   * A fresh, empty log. `reopen()` closes nothing and gives a new store object on the same log (the
   * same object for a store that lives in memory); `another()` (stores of many writers) a second
   * writer on the same log; `dispose()` closes and removes all of them.
   */
  create(): Promise<CreatedStore>
  /** The store offers turns (`takeTurn`): their promises are tested too. */
  readonly takesTurns?: boolean
}

export interface CreatedStore {
  store: LogStore
  reopen(): Promise<LogStore>
  another?(): Promise<LogStore>
  dispose(): Promise<void>
}

function entries(from: number, to: number): StoredEntry[] {
  return Array.from({ length: to - from + 1 }, (_, index) => ({ seq: from + index, value: `{"seq":${from + index}}` }))
}

async function readAll(store: LogStore, range: { from: number; to?: number }): Promise<{ entries: StoredEntry[]; chunks: number }> {
  const all: StoredEntry[] = []
  let chunks = 0
  for await (const chunk of store.read(range)) {
    chunks += 1
    all.push(...chunk.map(({ seq, value }) => ({ seq, value })))
  }
  return { entries: all, chunks }
}

async function partsOf(store: LogStore, prefix: string): Promise<Array<{ name: string; value: string }>> {
  const all: Array<{ name: string; value: string }> = []
  for await (const chunk of store.readSnapshot(prefix)) all.push(...chunk.map(({ name, value }) => ({ name, value })))
  return all
}

/** A lost append: nothing stored, the head told, and any entries brought back are the log's, from expectedHead + 1 on. */
async function assertLost(store: LogStore, outcome: AppendOutcome, expectedHead: number, head: number): Promise<void> {
  assert.is(outcome.appended, false, 'the append lost')
  if (outcome.appended) return
  assert.is(outcome.head, head, 'the head it lost to')
  if (outcome.missed !== undefined) {
    const stored = (await readAll(store, { from: expectedHead + 1, to: expectedHead + outcome.missed.length })).entries
    assert.equal(outcome.missed.map(({ seq, value }) => ({ seq, value })), stored, 'the missed entries brought back are the stored ones')
  }
}

export function storeContract(name: string, factory: StoreFactory): void {
  const test = suite<CreatedStore>(`store contract [${name}]`)
  test.before.each(async (context) => {
    Object.assign(context, await factory.create())
  })
  test.after.each(async (context) => {
    await context.dispose()
  })

  test('declares its writers', ({ store }) => {
    assert.ok(store.writers === 'single' || store.writers === 'many')
    if (store.writers === 'many') assert.type(store.onAppended, 'function', 'a store of many writers tells of appends')
  })

  test('an empty log: head 0, nothing to read, no snapshot', async ({ store }) => {
    assert.is(await store.head(), 0)
    assert.equal((await readAll(store, { from: 1 })).entries, [])
    assert.equal(await partsOf(store, ''), [])
  })

  test('appends after the expected head; reads any range back in seq order, in chunks, memory bounded by the chunk', async ({ store }) => {
    assert.equal(await store.append(entries(1, 1500), 0), { appended: true })
    assert.equal(await store.append(entries(1501, 2500), 1500), { appended: true })
    assert.is(await store.head(), 2500)
    const whole = await readAll(store, { from: 1 })
    assert.equal(whole.entries, entries(1, 2500))
    assert.ok(whole.chunks > 1, 'a long range comes in more than one chunk')
    assert.equal((await readAll(store, { from: 999, to: 1002 })).entries, entries(999, 1002))
    assert.equal((await readAll(store, { from: 2501 })).entries, [])
    assert.equal((await readAll(store, { from: 10, to: 9 })).entries, [])
  })

  test('an append after another head stores nothing and answers with the head: losing a race is an ordinary outcome', async ({ store }) => {
    await store.append(entries(1, 3), 0)
    await assertLost(store, await store.append(entries(3, 4), 2), 2, 3)
    await assertLost(store, await store.append(entries(1, 1), 0), 0, 3)
    assert.is(await store.head(), 3)
    assert.equal((await readAll(store, { from: 1 })).entries, entries(1, 3))
  })

  test('racing appends at one head: exactly one is stored, whole', async ({ store }) => {
    const racers = [0, 1, 2, 3].map((writer) =>
      store.append(entries(1, 5).map((entry) => ({ ...entry, value: `writer ${writer} ${entry.seq}` })), 0),
    )
    const outcomes = await Promise.all(racers)
    const winners = outcomes.flatMap((outcome, writer) => (outcome.appended ? [writer] : []))
    assert.is(winners.length, 1, 'one winner')
    const stored = (await readAll(store, { from: 1 })).entries
    assert.equal(stored.map((entry) => entry.value), [1, 2, 3, 4, 5].map((seq) => `writer ${winners[0]} ${seq}`), "the winner's batch, whole, and nothing of the others")
  })

  test('bad input is a typed error and changes nothing', async ({ store }) => {
    await store.append(entries(1, 2), 0)
    await rejectsWith(() => store.append(entries(4, 5), 2), ErrorCode.invalidArgument)
    await rejectsWith(() => store.append([{ seq: 3, value: 42 as unknown as string }], 2), ErrorCode.invalidArgument)
    await rejectsWith(() => store.append(entries(3, 3), -1), ErrorCode.invalidArgument)
    await rejectsWith(() => store.append('x' as unknown as StoredEntry[], 2), ErrorCode.invalidArgument)
    assert.is(await store.head(), 2)
    assert.equal((await readAll(store, { from: 1 })).entries, entries(1, 2))
  })

  test('snapshot parts: written apart from the log, replaced by name, deleted by a null value, read by prefix in name order', async ({ store }) => {
    await store.append(entries(1, 2), 0)
    await store.writeSnapshot([
      { name: 'b!2', value: 'two' },
      { name: 'a!1', value: 'one' },
      { name: 'b!1', value: 'uno' },
    ])
    assert.equal(await partsOf(store, 'b!'), [
      { name: 'b!1', value: 'uno' },
      { name: 'b!2', value: 'two' },
    ])
    await store.writeSnapshot([
      { name: 'b!1', value: null },
      { name: 'a!1', value: 'ein' },
    ])
    assert.equal(await partsOf(store, ''), [
      { name: 'a!1', value: 'ein' },
      { name: 'b!2', value: 'two' },
    ])
    assert.equal((await readAll(store, { from: 1 })).entries, entries(1, 2), 'the log is untouched')
  })

  test('many snapshot parts come back in chunks, all of them', async ({ store }) => {
    const parts = Array.from({ length: 2100 }, (_, index) => ({ name: `p!${String(index).padStart(5, '0')}`, value: String(index) }))
    await store.writeSnapshot(parts)
    assert.equal(await partsOf(store, 'p!'), parts)
  })

  test('what was appended and snapshotted is there for the next store object, after close', async ({ store, reopen }) => {
    await store.append(entries(1, 3), 0)
    await store.writeSnapshot([{ name: 'head', value: 'h' }])
    await store.close()
    const again = await reopen()
    assert.is(await again.head(), 3)
    assert.equal((await readAll(again, { from: 1 })).entries, entries(1, 3))
    assert.equal(await partsOf(again, ''), [{ name: 'head', value: 'h' }])
    assert.equal(await again.append(entries(4, 4), 3), { appended: true })
  })

  test("a store of many writers tells its listeners of another writer's appends", async ({ store, another }) => {
    if (store.writers === 'single') {
      assert.is(another, undefined, 'a single-writer store has no second writer')
      return
    }
    const heads: number[] = []
    const stop = store.onAppended!((head) => heads.push(head))
    const other = await another!()
    assert.equal(await other.append(entries(1, 2), 0), { appended: true })
    const deadline = Date.now() + 10_000
    while (!heads.some((head) => head >= 2) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    assert.ok(heads.some((head) => head >= 2), `told of head 2 (was told ${JSON.stringify(heads)})`)
    await assertLost(store, await store.append(entries(2, 2), 1), 1, 2)
    stop()
    const count = heads.length
    assert.equal(await other.append(entries(3, 3), 2), { appended: true })
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.is(heads.length, count, 'a stopped listener is told nothing more')
  })

  test('offers turns exactly when it says it does', ({ store }) => {
    assert.is(typeof store.takeTurn === 'function', factory.takesTurns === true)
  })

  if (factory.takesTurns === true) test("a turn holds back another writer's append until its own commits, which cannot lose", async ({ store, another }) => {
    const theirs = await another!()
    await store.append(entries(1, 1), 0)
    const turn = await store.takeTurn!()
    assert.is(await turn.head(), 1)
    let theirsSettled = false
    const racing = theirs.append([{ seq: 2, value: 'theirs' }], 1).then((outcome) => {
      theirsSettled = true
      return outcome
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.is(theirsSettled, false, "the other writer's append waits while the turn is held")
    assert.equal(await turn.append([{ seq: 2, value: 'mine' }], 1), { appended: true })
    const outcome = await racing
    assert.is(outcome.appended, false, 'the waiting append then loses to the turn')
    assert.equal((await readAll(store, { from: 1 })).entries, [...entries(1, 1), { seq: 2, value: 'mine' }])
    // A turn released without an append holds nothing back.
    await (await store.takeTurn!()).release()
    assert.equal(await theirs.append([{ seq: 3, value: 'theirs' }], 2), { appended: true })
  })

  test.run()
}
