// The change stream: after durability, in seq order, catch-up without gap or duplicate, completion on close.
import * as assert from 'uvu/assert'
import { config } from 'rxjs'
import type { ChangeRecord } from '../src/index.js'
import { eventually, onEachBackend, settle } from './helpers/backends.js'

onEachBackend('changes$', (test) => {
  test('each record once, in seq order, when the projection already shows it', async ({ store }) => {
    const cs = await store.open()
    const seen: Array<[number, string, number | null | undefined]> = []
    cs.changes$.subscribe((record) => {
      // By the time a subscriber hears of a change, queries answer with it.
      if (record.type === 'LeasesRenewed') return
      void cs.getChangeSource(record.changesourceid).then((changeSource) => seen.push([record.seq, record.type, changeSource?.masterid]))
    })
    const id = await cs.findChangeSourceId('a')
    await cs.setChangeSourceMaster(id, 5)
    await settle()
    assert.equal(seen, [
      [1, 'ChangeSourceRegistered', null],
      [2, 'MasterClaimed', 5],
    ])
  })

  test('a record is published only once it is in the log', async ({ store }) => {
    const cs = await store.open()
    const checks: Promise<boolean>[] = []
    cs.changes$.subscribe((record) => {
      checks.push(
        (async () => {
          // A second reader of the same log: the record must already be there.
          const watched: ChangeRecord[] = []
          await new Promise<void>((resolve) => {
            const subscription = cs.watch({ from: record.seq }).subscribe((seen) => {
              watched.push(seen)
              subscription?.unsubscribe()
              resolve()
            })
          })
          return watched[0]?.seq === record.seq && watched[0]?.hash === record.hash
        })(),
      )
    })
    await Promise.all(Array.from({ length: 20 }, (_, index) => cs.findChangeSourceId(`cs${index}`)))
    assert.equal(await Promise.all(checks), Array(20).fill(true))
  })

  test('close completes changes$', async ({ store }) => {
    const cs = await store.open()
    let completed = false
    cs.changes$.subscribe({ complete: () => (completed = true) })
    await cs.close()
    assert.ok(completed)
  })

  test('a subscriber that throws does not stop the others or the component', async ({ store }) => {
    const cs = await store.open()
    const reported: unknown[] = []
    const previous = config.onUnhandledError
    config.onUnhandledError = (error) => reported.push(error)
    try {
      const seen: number[] = []
      cs.changes$.subscribe(() => {
        throw new Error('subscriber bug')
      })
      cs.changes$.subscribe((record) => seen.push(record.seq))
      await cs.findChangeSourceId('a')
      await cs.findChangeSourceId('b')
      await settle(5)
      assert.equal(seen, [1, 2])
      assert.is(reported.length, 2)
      assert.is((await cs.getChangeSources()).length, 2)
    } finally {
      config.onUnhandledError = previous
    }
  })
})

onEachBackend('watch', (test) => {
  test('from 1: the whole log, then live', async ({ store }) => {
    const cs = await store.open()
    for (const name of ['a', 'b', 'c']) await cs.findChangeSourceId(name)
    const seqs: number[] = []
    cs.watch({ from: 1 }).subscribe((record) => seqs.push(record.seq))
    await cs.setChangeSourceMaster(2, 9)
    await eventually(() => seqs.length >= 4, 'the catch-up and the live record')
    await settle(5)
    assert.equal(seqs, [1, 2, 3, 4])
  })

  test('from the middle, and from past the head', async ({ store }) => {
    const cs = await store.open()
    for (const name of ['a', 'b', 'c', 'd']) await cs.findChangeSourceId(name)
    const middle: number[] = []
    const ahead: number[] = []
    cs.watch({ from: 3 }).subscribe((record) => middle.push(record.seq))
    cs.watch({ from: 6 }).subscribe((record) => ahead.push(record.seq))
    for (const name of ['e', 'f', 'g']) await cs.findChangeSourceId(name)
    await eventually(() => middle.length >= 5 && ahead.length >= 2, 'both watches to reach seq 7')
    await settle(5)
    assert.equal(middle, [3, 4, 5, 6, 7])
    assert.equal(ahead, [6, 7])
  })

  test('no gap and no duplicate while writes continue during the catch-up', async ({ store }) => {
    const cs = await store.open()
    await Promise.all(Array.from({ length: 2500 }, (_, index) => cs.findChangeSourceId(`before-${index}`)))
    const watchers = [1, 1000, 2400].map((from) => {
      const seqs: number[] = []
      cs.watch({ from }).subscribe((record) => seqs.push(record.seq))
      return { from, seqs }
    })
    // Writes issued in the same tick as the subscriptions, and while their catch-up reads run.
    const writes: Promise<number>[] = []
    for (let round = 0; round < 50; round++) {
      writes.push(...Array.from({ length: 10 }, (_, index) => cs.findChangeSourceId(`during-${round}-${index}`)))
      await settle()
    }
    await Promise.all(writes)
    await eventually(() => watchers.every(({ seqs }) => seqs.at(-1) === 3000), 'every watch to reach seq 3000')
    await settle(5)
    for (const { from, seqs } of watchers) {
      assert.equal(seqs, Array.from({ length: 3000 - from + 1 }, (_, index) => from + index), `watch from ${from}`)
    }
  })

  test('close completes a watch, after its catch-up', async ({ store }) => {
    const cs = await store.open()
    for (const name of ['a', 'b', 'c']) await cs.findChangeSourceId(name)
    const seqs: number[] = []
    let completed = false
    cs.watch({ from: 1 }).subscribe({ next: (record) => seqs.push(record.seq), complete: () => (completed = true) })
    await cs.close()
    assert.equal(seqs, [1, 2, 3])
    assert.ok(completed)
  })

  test('unsubscribing during the catch-up stops delivery', async ({ store }) => {
    const cs = await store.open()
    await Promise.all(Array.from({ length: 3000 }, (_, index) => cs.findChangeSourceId(`cs${index}`)))
    let count = 0
    const subscription = cs.watch({ from: 1 }).subscribe(() => {
      count++
      if (count === 10) subscription.unsubscribe()
    })
    await eventually(() => count >= 10, 'ten records of the catch-up')
    await settle(20)
    assert.is(count, 10)
  })
})
