/**
 * Fixtures in the style of Buildbot's `fakedb` rows, so that a ported test reads like its original.
 *
 * Two kinds of fixture: `state(...)` folds events into a projection for the pure decide/evolve
 * specs, and `insert(component, ...)` builds the same situation through the public API. Our ids
 * come from the log, so Buildbot's literal ids (42, 87) are labels here: `insert` resolves them
 * to the ids the component gave, through the returned `id()` function.
 */
import * as assert from 'uvu/assert'
import type { Command } from '../../src/domain/commands.js'
import { decide } from '../../src/domain/decide.js'
import { ChangeSourcesError } from '../../src/errors.js'
import type { ChangeEvent } from '../../src/domain/events.js'
import { evolve } from '../../src/domain/evolve.js'
import { initialState, type ChangeSourcesState } from '../../src/domain/projection.js'
import { stampEvent } from '../../src/log/record-codec.js'
import type { ChangeSources } from '../../src/index.js'

export interface ChangeSourceRow {
  readonly table: 'changesources'
  readonly id: number
  readonly name: string
}
export interface ChangeSourceMasterRow {
  readonly table: 'changesource_masters'
  readonly changesourceid: number
  readonly masterid: number
}
export interface MasterRow {
  readonly table: 'masters'
  readonly id: number
  readonly active: boolean
}
export type Row = ChangeSourceRow | ChangeSourceMasterRow | MasterRow

export const ChangeSource = (row: { id: number; name: string }): ChangeSourceRow => ({ table: 'changesources', ...row })
export const ChangeSourceMaster = (row: { changesourceid: number; masterid: number }): ChangeSourceMasterRow => ({
  table: 'changesource_masters',
  ...row,
})
/** A master row. Ours only know claims, so a master row changes nothing; it keeps a port literal. */
export const Master = (row: { id: number; active?: boolean }): MasterRow => ({ table: 'masters', active: true, ...row })

/** Builds the rows through the API. Returns the id the component gave each Buildbot id. */
export async function insert(component: ChangeSources, ...rows: Row[]): Promise<{ id: (buildbotId: number) => number }> {
  const ids = new Map<number, number>()
  for (const row of rows) {
    if (row.table === 'changesources') ids.set(row.id, await component.findChangeSourceId(row.name))
  }
  const id = (buildbotId: number): number => {
    const mapped = ids.get(buildbotId)
    if (mapped === undefined) throw new Error(`fixture: no change source row with id ${buildbotId}`)
    return mapped
  }
  for (const row of rows) {
    if (row.table === 'changesource_masters') await component.setChangeSourceMaster(id(row.changesourceid), row.masterid)
  }
  return { id }
}

// Events for the pure specs, named as the log names them.
export const registered = (changesourceid: number, name: string): ChangeEvent => ({ type: 'ChangeSourceRegistered', changesourceid, name })
export const claimed = (changesourceid: number, masterid: number): ChangeEvent => ({ type: 'MasterClaimed', changesourceid, masterid })
export const released = (changesourceid: number, masterid: number, reason: 'released' | 'master-deactivated' = 'released'): ChangeEvent => ({
  type: 'MasterReleased',
  changesourceid,
  masterid,
  reason,
})

/** An event appended at a time (ms); a bare event is appended at time 0. */
export type Timed = ChangeEvent | readonly [time: number, event: ChangeEvent]

/** `event`, appended at `time`. */
export const at = (time: number, event: ChangeEvent): Timed => [time, event] as const

export const claimedWithLease = (changesourceid: number, masterid: number, leaseMs: number): ChangeEvent => ({ type: 'MasterClaimed', changesourceid, masterid, leaseMs })
export const renewed = (masterid: number): ChangeEvent => ({ type: 'LeasesRenewed', masterid })
export const expired = (changesourceid: number, masterid: number, expiredAt: number): ChangeEvent => ({
  type: 'MasterReleased',
  changesourceid,
  masterid,
  reason: 'lease-expired',
  expiredAt,
})

/** The projection after `events`, stamped as the writer stamps them. */
export function state(...events: Timed[]): ChangeSourcesState {
  let current = initialState()
  for (const item of events) {
    const [time, event] = Array.isArray(item) ? (item as readonly [number, ChangeEvent]) : [0, item as ChangeEvent]
    current = evolve(current, stampEvent(event, current.seq + 1, time, current.hash))
  }
  return current
}

/** given(events).when(command).then(events) | .thenError(ErrorClass) — the decider spec, as emmett writes it. */
export function given(...events: Timed[]) {
  const before = state(...events)
  return {
    /** The command decided at time `now` (default 0), with `maxClockSkewMs` (default 0). */
    when(command: Command, { now = 0, maxClockSkewMs = 0 }: { now?: number; maxClockSkewMs?: number } = {}) {
      const decision = decide(before, command, { now, maxClockSkewMs })
      return {
        then(expected: ChangeEvent[]): void {
          if (decision instanceof ChangeSourcesError) assert.unreachable(`expected events, got ${decision.code}: ${decision.message}`)
          assert.equal(decision, expected)
        },
        thenNothingHappened(): void {
          if (decision instanceof ChangeSourcesError) assert.unreachable(`expected no events, got ${decision.code}`)
          assert.equal(decision, [])
        },
        thenError<E extends ChangeSourcesError>(errorClass: new (...args: never[]) => E, check?: (error: E) => void): void {
          if (!(decision instanceof errorClass)) assert.unreachable(`expected ${errorClass.name}, got ${JSON.stringify(decision)}`)
          check?.(decision as E)
        },
      }
    },
  }
}
