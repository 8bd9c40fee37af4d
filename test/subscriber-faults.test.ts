// Subscriber faults: a subscriber that throws, one that is slow (async work per record, in order),
// and one that issues commands from inside its handler, beside well-behaved ones on changes$ and on
// catch-up watches. The others still see every record once and in order, RxJS reports the thrown
// errors (config.onUnhandledError), and the component keeps working.
import { concatMap, config, type Subscription } from 'rxjs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ChangeRecord, ChangeSources } from '../src/index.js'
import { onEachBackend, settle } from './helpers/backends.js'
import { componentView, replayed } from './helpers/drive.js'

class Thrown extends Error {}

async function quiet(cs: ChangeSources): Promise<void> {
  // Until no command is left: the reacting subscriber may still be adding some.
  let head = -1
  while (cs.head !== head) {
    head = cs.head
    await settle(5)
  }
}

onEachBackend('subscriber faults', (test) => {
  test('a throwing, a slow and a commanding subscriber: the others see every record once and in order', async ({ store }) => {
    const reported: unknown[] = []
    const previous = config.onUnhandledError
    config.onUnhandledError = (error) => reported.push(error)
    const subscriptions: Subscription[] = []
    try {
      const cs = await store.open()
      const plain: ChangeRecord[] = []
      const slow: ChangeRecord[] = []
      const reacting: ChangeRecord[] = []
      const caughtUp: ChangeRecord[] = []
      let thrownCount = 0
      const reactions: Array<Promise<unknown>> = []
      subscriptions.push(
        cs.changes$.subscribe(() => {
          thrownCount++
          throw new Thrown('a subscriber that throws')
        }),
        cs.changes$.subscribe((record) => plain.push(record)),
        cs.changes$
          .pipe(
            concatMap(async (record) => {
              // Slow: real asynchronous work between records.
              await settle(record.seq % 3)
              await new Promise((resolve) => setImmediate(resolve))
              return record
            }),
          )
          .subscribe((record) => slow.push(record)),
        // Issues commands from inside its handler: claims what is registered or released for master 99.
        cs.changes$.subscribe((record) => {
          reacting.push(record)
          if (record.type === 'ChangeSourceRegistered' || (record.type === 'MasterReleased' && record.masterid !== 99)) {
            reactions.push(cs.trySetChangeSourceMaster(record.changesourceid, 99))
          }
          if (record.type === 'MasterClaimed' && record.masterid === 99 && record.changesourceid % 2 === 0) {
            reactions.push(cs.setChangeSourceMaster(record.changesourceid, null))
          }
        }),
        cs.watch({ from: 1 }).subscribe(() => {
          throw new Thrown('a catch-up subscriber that throws')
        }),
      )
      // The workload, from outside: registrations, claims, releases and deactivations, concurrently.
      const work: Array<Promise<unknown>> = []
      for (let index = 0; index < 40; index++) {
        work.push(
          cs.findChangeSourceId(`source-${index % 15}`).then(async (id) => {
            await cs.trySetChangeSourceMaster(id, 1 + (index % 4))
            if (index % 5 === 0) await cs.setChangeSourceMaster(id, null)
            if (index % 11 === 0) await cs.masterDeactivated(1 + (index % 4))
          }),
        )
        if (index === 20) subscriptions.push(cs.watch({ from: 1 }).subscribe((record) => caughtUp.push(record)))
      }
      await Promise.all(work)
      await quiet(cs)
      await Promise.all(reactions)
      await quiet(cs)
      while (slow.length < cs.head) await settle(5)

      const log = await replayed(cs)
      assert.ok(log.length >= 30, `a real workload (${log.length} records)`)
      assert.ok(log.some((record) => record.type === 'MasterClaimed' && record.masterid === 99), 'the reacting subscriber’s commands took effect')
      assert.equal(plain, log, 'the plain subscriber')
      assert.equal(slow, log, 'the slow subscriber')
      assert.equal(reacting, log, 'the commanding subscriber')
      assert.equal(caughtUp, log, 'the catch-up subscriber that joined mid-run')
      // The throwing subscribers: every throw reported, none lost, none of another kind.
      assert.is(thrownCount, log.length)
      assert.ok(reported.length >= log.length, `every throw reported (${reported.length})`)
      assert.ok(reported.every((error) => error instanceof Thrown), 'only the thrown errors were reported')
      // No two holders, whatever the handlers did.
      const holders = new Map<number, number | null>()
      for (const record of log) {
        if (record.type === 'LeasesRenewed') continue
        if (record.type === 'MasterClaimed') assert.is(holders.get(record.changesourceid) ?? null, null, `seq ${record.seq} claims a held source`)
        holders.set(record.changesourceid, record.type === 'MasterClaimed' ? record.masterid : null)
      }
      // The component keeps working, and its log reopens to the same state.
      const id = await cs.findChangeSourceId('after-the-faults')
      // The commanding subscriber claimed it for 99 on registration (queued before this call).
      assert.ok((await cs.masterDeactivated(99)).includes(id))
      assert.is(await cs.trySetChangeSourceMaster(id, 7), true)
      await quiet(cs)
      const view = await componentView(cs, [1, 2, 3, 4, 7, 99], 20)
      for (const subscription of subscriptions) subscription.unsubscribe()
      await cs.close()
      const again = await store.open()
      assert.equal(await componentView(again, [1, 2, 3, 4, 7, 99], 20), view)
    } finally {
      for (const subscription of subscriptions) subscription.unsubscribe()
      // RxJS reports on a timer: let the last reports land before the handler is restored.
      await settle(5)
      config.onUnhandledError = previous
    }
  })
})

const plainSuite = suite('subscriber faults: without a handler')
plainSuite('without config.onUnhandledError, a throwing subscriber surfaces as an uncaught exception, and the component still commits', async () => {
  const { ChangeSources } = await import('../src/index.js')
  const { MemoryLevel } = await import('memory-level')
  const db = new MemoryLevel()
  const cs = await ChangeSources.open({ db })
  const uncaught: unknown[] = []
  const listener = (error: unknown): void => void uncaught.push(error)
  const listeners = process.listeners('uncaughtException')
  process.removeAllListeners('uncaughtException')
  process.on('uncaughtException', listener)
  try {
    const subscription = cs.changes$.subscribe(() => {
      throw new Thrown('unhandled')
    })
    assert.is(await cs.findChangeSourceId('a'), 1)
    await settle(5)
    subscription.unsubscribe()
    assert.is(uncaught.length, 1)
    assert.instance(uncaught[0], Thrown)
    assert.is(await cs.findChangeSourceId('b'), 2)
  } finally {
    process.removeListener('uncaughtException', listener)
    for (const restored of listeners) process.on('uncaughtException', restored)
    await cs.close()
    await db.close()
  }
})
plainSuite.run()
