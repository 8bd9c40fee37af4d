// The writer's own CPU, without I/O: `node --import tsx scripts/writer-cpu.ts`. A Writer over a
// log store that stores nothing, on a state of 4,000 change sources: µs per command for one
// caller awaiting each (claims, releases, registrations) and with 64 callers in flight. The floor
// under the bench's write rows, which add LevelDB's put and the public methods to it.
import type { Command } from '../src/domain/commands.js'
import { applyRecord, produceState } from '../src/domain/evolve.js'
import { discardingStore } from '../test/helpers/discarding-store.js'
import { initialState } from '../src/domain/projection.js'
import { stampEvent } from '../src/log/record-codec.js'
import { Writer } from '../src/engine/writer.js'

const SOURCES = 4000
let state = initialState()
state = produceState(state, (draft) => {
  for (let id = 1; id <= SOURCES; id++) applyRecord(draft, stampEvent({ type: 'ChangeSourceRegistered', changesourceid: id, name: `poller:repo-${id}` }, id, 1, draft.hash))
})
const store = discardingStore(state.seq)
const writer = new Writer({ state, store, now: Date.now, publish: () => {} })
const claim = (changesourceid: number): Command => ({ type: 'ClaimChangeSource', changesourceid, masterid: 1 })
const release = (changesourceid: number): Command => ({ type: 'ReleaseChangeSource', changesourceid })
const us = (start: bigint, count: number) => (Number(process.hrtime.bigint() - start) / 1000 / count).toFixed(2)

for (let round = 1; round <= 5; round++) {
  let start = process.hrtime.bigint()
  for (let id = 1; id <= SOURCES; id++) await writer.submit(claim(id))
  const claims = us(start, SOURCES)
  start = process.hrtime.bigint()
  for (let id = 1; id <= SOURCES; id++) await writer.submit(release(id))
  const releases = us(start, SOURCES)
  start = process.hrtime.bigint()
  for (let index = 0; index < SOURCES; index++) await writer.submit({ type: 'RegisterChangeSource', name: `extra-${round}-${index}` })
  const registrations = us(start, SOURCES)
  const perCaller = 100
  start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: 64 }, async (_, caller) => {
      for (let call = 0; call < perCaller; call++) await writer.submit(call % 2 === 0 ? claim(caller + 1) : release(caller + 1))
    }),
  )
  const inFlight = us(start, 64 * perCaller)
  // The first rounds include V8's compiling.
  console.log(`round ${round}: sequential claims ${claims}, releases ${releases}, registrations ${registrations} µs per command; 64 in flight ${inFlight} µs per command`)
}
