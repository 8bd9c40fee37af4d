/**
 * The stored snapshot of a test store, reached under the component: its raw keys, to damage them
 * as a disk or a writer with a bug would, and the state restored from it as open restores it.
 */
import { Level } from 'level'
import { restoreState, type Restored, type RestoreOptions } from '../../src/engine/restore.js'
import { LevelLogStore } from '../../src/stores/level/level-log-store.js'
import { sha256 } from '../../src/sha256.js'
import { HEAD_PART, digestOf, headChecksum, partNamesOf, type SnapshotHead } from '../../src/snapshots/snapshot.js'
import type { TestStore } from './backends.js'

export type Raw = {
  get(key: string): Promise<string | undefined>
  put(key: string, value: string): Promise<void>
  del(key: string): Promise<void>
  keys(options: { gte: string; lt: string }): { all(): Promise<string[]> }
}

export const HEAD_KEY = `snapshot!${HEAD_PART}`

/** Runs `body` on the store's database (a LevelDB folder is opened for it: no component may have it open). */
export async function onRawDb<T>(store: TestStore, body: (db: Raw) => Promise<T>): Promise<T> {
  if (store.where.db !== undefined) return body(store.where.db as never)
  const db = new Level<string, string>(store.where.location!)
  await db.open()
  try {
    return await body(db as never)
  } finally {
    await db.close()
  }
}

/** The state at the head restored from the store as open restores it, read while no component has the store open. */
export async function restoreOf(store: TestStore, options: RestoreOptions = {}): Promise<Restored> {
  return onRawDb(store, async (db) => restoreState(await LevelLogStore.open(db as never, { sync: false }), 'head', options))
}

/**
 * Replaces a part and recomputes the digest and the head's checksum, as a writer with a bug would
 * have stored it: the snapshot passes every check of open, and the page fails only when parsed.
 */
export async function rewritePartPassingChecks(store: TestStore, part: string, value: string): Promise<void> {
  await onRawDb(store, async (db) => {
    await db.put(`snapshot!${part}`, value)
    const head = JSON.parse((await db.get(HEAD_KEY))!) as SnapshotHead
    const { rows, claims, names: namePages } = partNamesOf(head)
    const names = [...rows, ...claims, ...namePages]
    const checksums: string[] = []
    for (const name of names) checksums.push(sha256((await db.get(`snapshot!${name}`))!))
    const changed = { ...head, digest: digestOf(checksums) }
    await db.put(HEAD_KEY, JSON.stringify({ ...changed, checksum: headChecksum(changed) }))
  })
}
