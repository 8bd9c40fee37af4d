/**
 * Who may write a database: one component per LevelDB folder across processes, and one per
 * abstract-level database (or sublevel) within a process.
 *
 * LevelDB's own LOCK is a POSIX record lock, which a process loses as soon as it closes any
 * descriptor of that file: a `new Level(location)` made anywhere in the process, refused, drops it.
 * So a folder is locked here by a lock of the component's own (the LOCK of a small LevelDB in the
 * folder's `changesources.lock` subfolder, a file that nothing but this module opens), and within
 * the process by the folder's device and inode, before that lock's file is touched.
 */
import { mkdir, realpath, stat } from 'node:fs/promises'
import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Level } from 'level'
import { LocationLockedError, LocationNotFoundError, OpenFailedError } from '../../errors.js'
import { describeOpenFailure, openError } from './open-failure.js'

/** The subfolder that holds the component's lock; LevelDB ignores a folder of this name. */
export const LOCK_FOLDER = 'changesources.lock'

const lockedFolders = new Set<string>()

export interface LocationLock {
  /** Gives the lock back; idempotent. */
  release(): Promise<void>
}

/**
 * Locks `location` for this component: creates the folder first when `create` (so that two paths
 * to one folder are seen to be one), then refuses a folder already locked in this process or in
 * another one, with LocationLockedError.
 */
export async function lockLocation(location: string, options: { create: boolean }): Promise<LocationLock> {
  if (options.create) {
    await mkdir(location, { recursive: true }).catch(async (error: unknown) => {
      // A recursive mkdir reports ENOENT for most failures (EROFS, EACCES); a plain one says which.
      const plain = await mkdir(location).then(
        () => undefined,
        (reason: unknown) => reason,
      )
      let cause = (plain as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' || plain === undefined ? error : plain
      // EEXIST: something is there that is not a folder; stat says what (a file, a symlink loop).
      if ((cause as NodeJS.ErrnoException)?.code === 'EEXIST') {
        cause = await stat(location).then(
          () => Object.assign(new Error('not a folder'), { code: 'ENOTDIR', cause }),
          (reason: unknown) => reason,
        )
      }
      throw new OpenFailedError(describeOpenFailure(location, cause), { cause })
    })
  }
  let identity: string
  let folder: string
  try {
    const found = await stat(location)
    if (!found.isDirectory()) throw Object.assign(new Error(`not a folder`), { code: 'ENOTDIR' })
    identity = `${found.dev}:${found.ino}`
    folder = await realpath(location)
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') throw new LocationNotFoundError(location, { cause: error })
    throw new OpenFailedError(describeOpenFailure(location, error), { cause: error })
  }
  const unreserve = reserveIdentity(location, identity)
  let lockDb: { open(): Promise<void>; close(): Promise<void> } | undefined
  try {
    lockDb = new Level(join(folder, LOCK_FOLDER))
    await lockDb.open()
  } catch (error) {
    unreserve()
    await lockDb?.close().catch(() => {})
    // Another process holds it: this process's own holders were refused above, before the open.
    throw openError(location, error)
  }
  let released: Promise<void> | undefined
  return {
    release() {
      released ??= lockDb.close().finally(unreserve)
      return released
    },
  }
}

/**
 * Reserves `location` in this process only, for a reader that shares the folder's files (an audit's
 * copy holds a hard link to LOCK): a second handle on a locked file, closed, would drop the lock. A
 * path that does not exist yet is known by its absolute path.
 */
export function reserveLocation(location: string): () => void {
  let identity: string
  try {
    const found = statSync(location)
    identity = `${found.dev}:${found.ino}`
  } catch {
    identity = resolve(location)
  }
  return reserveIdentity(location, identity)
}

function reserveIdentity(location: string, identity: string): () => void {
  if (lockedFolders.has(identity)) throw new LocationLockedError(location, 'this-process')
  lockedFolders.add(identity)
  return () => void lockedFolders.delete(identity)
}

// A database's identity within the process: its root database and the prefix of its key space.
const usedDatabases = new WeakMap<object, Set<string>>()

/**
 * Reserves an abstract-level database (or sublevel) for one component in this process: two
 * components writing one database would each trust a head of their own and give one id twice.
 */
export function reserveDatabase(db: object): () => void {
  const sublevel = db as unknown as { db?: object; prefix?: string }
  const root = sublevel.db !== undefined && sublevel.db !== db ? sublevel.db : db
  const prefix = root === db ? '' : String(sublevel.prefix)
  let prefixes = usedDatabases.get(root)
  if (prefixes === undefined) usedDatabases.set(root, (prefixes = new Set()))
  if (prefixes.has(prefix)) throw new LocationLockedError('the database given as options.db', 'this-process')
  prefixes.add(prefix)
  return () => void prefixes.delete(prefix)
}
