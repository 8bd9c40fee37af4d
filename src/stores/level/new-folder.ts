/**
 * A folder built elsewhere and moved into place only where nothing is: the way import creates a
 * database without ever deleting or altering what it did not create. The folder is built next to
 * its target (the same file system, so the move is one rename), and rename(2) of a folder succeeds
 * onto a missing path or an empty folder and fails onto anything else, atomically.
 */
import { lstat, mkdir, open, readdir, rename } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { InvalidArgumentError, OpenFailedError, WriteFailedError } from '../../errors.js'
import { describeOpenFailure } from './open-failure.js'
import { keepTemporaryFolder, makeTemporaryFolder } from './temporary-folders.js'

const NOT_FREE = new Set(['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'])

function notFree(target: string, what: string): InvalidArgumentError {
  return new InvalidArgumentError('location', `a folder that does not exist yet, or an empty one: ${target} ${what}`, target)
}

/** Refuses early (before any work) a target that is a file, a link, or a folder that is not empty. */
async function checkFree(target: string): Promise<void> {
  let entry
  try {
    entry = await lstat(target)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new OpenFailedError(describeOpenFailure(target, error), { cause: error })
  }
  if (entry.isSymbolicLink()) throw notFree(target, 'is a symbolic link')
  if (!entry.isDirectory()) throw notFree(target, 'is not a folder')
  const names = await readdir(target)
  if (names.length > 0) throw notFree(target, `is not empty (it holds ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`)
}

/**
 * Runs `build` on a new empty folder of ours next to `target`, then renames it to `target` if
 * `target` is still missing or an empty folder. On any failure our folder is removed and `target`
 * is as it was; nothing else is ever removed.
 */
export async function buildNewFolder<T>(target: string, build: (path: string) => Promise<T>): Promise<T> {
  await checkFree(target)
  const parent = dirname(resolve(target))
  try {
    await mkdir(parent, { recursive: true })
  } catch (error) {
    throw new OpenFailedError(describeOpenFailure(parent, error), { cause: error })
  }
  let folder
  try {
    folder = await makeTemporaryFolder(parent, `.${basename(resolve(target))}.import-`)
  } catch (error) {
    throw new OpenFailedError(describeOpenFailure(parent, error), { cause: error })
  }
  try {
    const result = await build(folder.path)
    try {
      await rename(folder.path, target)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== undefined && NOT_FREE.has(code)) throw notFree(target, 'was not empty when the import was done: another process wrote there')
      throw new WriteFailedError({ cause: error })
    }
    keepTemporaryFolder(folder)
    await syncFolder(parent)
    return result
  } catch (error) {
    await folder.remove().catch(() => {})
    throw error
  }
}

// The rename is durable once the parent folder is synced; a file system that cannot sync a folder has nothing more to do.
async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r').catch(() => undefined)
  try {
    await handle?.sync()
  } catch {
    // See above.
  } finally {
    await handle?.close()
  }
}
