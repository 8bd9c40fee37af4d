// The virtual clock the lease tests move: due work runs in time order, at its due time, and an
// action that reschedules itself or is unsubscribed behaves as RxJS's own actions do.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { timer, interval, take } from 'rxjs'
import { ManualScheduler } from './helpers/manual-scheduler.js'

test('work runs in due order at its due time, ties in scheduling order, and not before', async () => {
  const scheduler = new ManualScheduler(100)
  const ran: Array<[string, number]> = []
  scheduler.schedule(() => void ran.push(['b', scheduler.now()]), 20)
  scheduler.schedule(() => void ran.push(['a', scheduler.now()]), 10)
  scheduler.schedule(() => void ran.push(['c', scheduler.now()]), 20)
  await scheduler.advance(19)
  assert.equal(ran, [['a', 110]])
  assert.is(scheduler.now(), 119)
  await scheduler.advance(1)
  assert.equal(ran, [['a', 110], ['b', 120], ['c', 120]])
})

test('an action reschedules itself through this.schedule, and unsubscribing cancels it', async () => {
  const scheduler = new ManualScheduler(0)
  const ran: number[] = []
  const subscription = scheduler.schedule(function (this: { schedule(state?: number, delay?: number): unknown }, count?: number) {
    ran.push(scheduler.now())
    this.schedule((count ?? 0) + 1, 5)
  }, 5, 0)
  await scheduler.advance(16)
  assert.equal(ran, [5, 10, 15])
  subscription.unsubscribe()
  await scheduler.advance(100)
  assert.equal(ran, [5, 10, 15])
  assert.is(scheduler.pending, 0)
})

test('RxJS operators run on it: timer and interval follow advance()', async () => {
  const scheduler = new ManualScheduler(0)
  const seen: number[] = []
  timer(50, scheduler).subscribe(() => seen.push(scheduler.now()))
  interval(20, scheduler).pipe(take(3)).subscribe(() => seen.push(scheduler.now()))
  await scheduler.advance(100)
  assert.equal(seen, [20, 40, 50, 60])
})

test.run()
