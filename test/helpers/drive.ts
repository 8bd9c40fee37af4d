/**
 * Drives the component with the model's operations, and reads back every query answer in the shape
 * the model gives (test/helpers/model.ts), so that the two compare with one assert.equal.
 */
import { firstValueFrom, toArray, takeWhile } from 'rxjs'
import type { ChangeRecord, ChangeSources } from '../../src/index.js'
import { allFilters, type Answer, type Op } from './model.js'

/** Issues `op` synchronously (so that ops issued in one tick queue in call order); settles to an Answer. */
export function issue(cs: ChangeSources, op: Op): Promise<Answer> {
  let call: Promise<unknown>
  try {
    switch (op.op) {
      case 'register':
        call = cs.findChangeSourceId(op.name)
        break
      case 'claim':
        call = cs.setChangeSourceMaster(op.id, op.master)
        break
      case 'tryClaim':
        call = cs.trySetChangeSourceMaster(op.id, op.master)
        break
      case 'release':
        call = cs.setChangeSourceMaster(op.id, null)
        break
      case 'deactivate':
        call = cs.masterDeactivated(op.master)
        break
    }
  } catch (error) {
    return Promise.resolve({ error: `threw synchronously: ${String(error)}` })
  }
  return call.then(
    (ok) => ({ ok }),
    (error: { code?: string }) => ({ error: error?.code ?? String(error) }),
  )
}

/** Every query answer: the head, getChangeSource for ids 1..maxId, getChangeSources with every filter. */
export async function componentView(cs: Pick<ChangeSources, 'head' | 'getChangeSource' | 'getChangeSources'>, masters: readonly number[], maxId: number): Promise<unknown> {
  const byId: unknown[] = []
  for (let id = 1; id <= maxId; id++) byId.push(plain(await cs.getChangeSource(id)))
  const lists: unknown[] = []
  for (const filter of allFilters(masters)) lists.push((await cs.getChangeSources(filter)).map(plain))
  return { head: cs.head, byId, lists }
}

function plain<T>(value: T): T {
  return value === null ? value : ({ ...value } as T)
}

/** The whole log through watch({ from: 1 }), up to the current head. */
export async function replayed(cs: ChangeSources): Promise<ChangeRecord[]> {
  const head = cs.head
  if (head === 0) return []
  return firstValueFrom(cs.watch({ from: 1 }).pipe(takeWhile((record) => record.seq < head, true), toArray()))
}
