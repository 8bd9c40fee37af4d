/**
 * A small pure model of the rules, written from Buildbot's reference (shared/reference/
 * buildbot-changesources.md and docs/buildbot-differences.md), independently of src/domain/decide.ts:
 * an array of names indexed by id, an array of holders, and the list of events in order.
 */

export type ModelEvent =
  | { type: 'ChangeSourceRegistered'; changesourceid: number; name: string }
  | { type: 'MasterClaimed'; changesourceid: number; masterid: number }
  | { type: 'MasterReleased'; changesourceid: number; masterid: number; reason: 'released' | 'master-deactivated' }

export interface Model {
  /** names[id - 1] */
  names: string[]
  /** holders[id - 1]: the master that holds it, or null */
  holders: Array<number | null>
  events: ModelEvent[]
}

export type Op =
  | { op: 'register'; name: string }
  | { op: 'claim'; id: number; master: number }
  | { op: 'tryClaim'; id: number; master: number }
  | { op: 'release'; id: number }
  | { op: 'deactivate'; master: number }

/** What the component answers: a value, or the code of the error it rejects with. */
export type Answer = { ok: unknown } | { error: string }

export const UNKNOWN = 'CHANGESOURCES_UNKNOWN_CHANGE_SOURCE'
export const CLAIMED = 'CHANGESOURCES_ALREADY_CLAIMED'

export function emptyModel(): Model {
  return { names: [], holders: [], events: [] }
}

export function cloneModel(model: Model): Model {
  return { names: [...model.names], holders: [...model.holders], events: [...model.events] }
}

/** Applies `op` to `model` in place and returns what the component must answer. */
export function step(model: Model, op: Op): Answer {
  switch (op.op) {
    case 'register': {
      const index = model.names.indexOf(op.name)
      if (index >= 0) return { ok: index + 1 }
      model.names.push(op.name)
      model.holders.push(null)
      const id = model.names.length
      model.events.push({ type: 'ChangeSourceRegistered', changesourceid: id, name: op.name })
      return { ok: id }
    }
    case 'claim':
    case 'tryClaim': {
      if (op.id > model.names.length) return { error: UNKNOWN }
      const holder = model.holders[op.id - 1]
      const success = op.op === 'claim' ? { ok: undefined } : { ok: true }
      if (holder === op.master) return success
      if (holder !== null) return op.op === 'claim' ? { error: CLAIMED } : { ok: false }
      model.holders[op.id - 1] = op.master
      model.events.push({ type: 'MasterClaimed', changesourceid: op.id, masterid: op.master })
      return success
    }
    case 'release': {
      if (op.id > model.names.length) return { error: UNKNOWN }
      const holder = model.holders[op.id - 1]
      if (holder === null || holder === undefined) return { ok: undefined }
      model.holders[op.id - 1] = null
      model.events.push({ type: 'MasterReleased', changesourceid: op.id, masterid: holder, reason: 'released' })
      return { ok: undefined }
    }
    case 'deactivate': {
      const ids: number[] = []
      model.holders.forEach((holder, index) => {
        if (holder !== op.master) return
        model.holders[index] = null
        ids.push(index + 1)
        model.events.push({ type: 'MasterReleased', changesourceid: index + 1, masterid: op.master, reason: 'master-deactivated' })
      })
      return { ok: ids }
    }
  }
}

export interface Row {
  id: number
  name: string
  masterid: number | null
}

function rows(model: Model): Row[] {
  return model.names.map((name, index) => ({ id: index + 1, name, masterid: model.holders[index]! }))
}

/** Buildbot's getChangeSources(active, masterid), from the reference's matrix (section 1.5). */
export function modelQuery(model: Model, filter: { active?: boolean; masterid?: number }): Row[] {
  if (filter.masterid !== undefined && filter.active === false) return []
  if (filter.masterid !== undefined) return rows(model).filter((row) => row.masterid === filter.masterid)
  if (filter.active === true) return rows(model).filter((row) => row.masterid !== null)
  if (filter.active === false) return rows(model).filter((row) => row.masterid === null)
  return rows(model)
}

export function modelGet(model: Model, id: number): Row | null {
  return rows(model)[id - 1] ?? null
}

/** The filters every check asks: none, each value of active, and each master id with each value of active. */
export function allFilters(masters: readonly number[]): Array<{ active?: boolean; masterid?: number } | undefined> {
  const filters: Array<{ active?: boolean; masterid?: number } | undefined> = [undefined, {}, { active: true }, { active: false }]
  for (const masterid of masters) filters.push({ masterid }, { masterid, active: true }, { masterid, active: false })
  return filters
}

/** Every query answer of the model, in the shape `componentView` gives for the component. */
export function modelView(model: Model, masters: readonly number[], maxId: number): unknown {
  const byId: Array<Row | null> = []
  for (let id = 1; id <= maxId; id++) byId.push(modelGet(model, id))
  return { head: model.events.length, byId, lists: allFilters(masters).map((filter) => modelQuery(model, filter ?? {})) }
}

/** The event part of a record: what the model predicts. */
export function eventOf(value: object): ModelEvent {
  const record = value as Record<string, unknown>
  switch (record.type) {
    case 'ChangeSourceRegistered':
      return { type: 'ChangeSourceRegistered', changesourceid: record.changesourceid as number, name: record.name as string }
    case 'MasterClaimed':
      return { type: 'MasterClaimed', changesourceid: record.changesourceid as number, masterid: record.masterid as number }
    default:
      return {
        type: 'MasterReleased',
        changesourceid: record.changesourceid as number,
        masterid: record.masterid as number,
        reason: record.reason as 'released' | 'master-deactivated',
      }
  }
}
