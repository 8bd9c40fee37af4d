// Turns on PostgreSQL, beyond the store contract's (a turn holds back the others' appends): a turn
// left by a stopped process is ended by the server after turnTimeoutMs, and the others go on.
import * as assert from 'uvu/assert'
import type { StoredEntry } from '../src/index.js'
import { postgresStoresSuite } from './helpers/postgres.js'

const test = postgresStoresSuite('turns on PostgreSQL')

const entry = (seq: number, value = `v${seq}`): StoredEntry => ({ seq, value })

test('a turn its process abandons (stopped, holding it) is ended by the server after turnTimeoutMs; the others go on', async ({ open }) => {
  const [stopped, other] = [await open({ turnTimeoutMs: 300 }), await open()]
  const turn = await stopped.takeTurn()
  // Neither appended to nor released for a while, as by a process stopped while it held the turn.
  let settled = false
  const waiting = other.append([entry(1)], 0).then((outcome) => {
    settled = true
    return outcome
  })
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.is(settled, false, 'the append waits while the abandoned turn holds the lock')
  assert.equal(await waiting, { appended: true }, 'and goes through once the server has ended the turn')
  // The process resumes: its turn is gone, so its append fails and stores nothing.
  const failed = await turn.append([entry(2, 'stale')], 1).then(
    () => undefined,
    (error: unknown) => error,
  )
  assert.ok(failed !== undefined, "the stopped process's append through its ended turn fails")
  assert.is(await other.head(), 1, 'and stores nothing')
  assert.equal(await stopped.append([entry(2)], 1), { appended: true }, 'the store goes on with a new connection')
})

test.run()
