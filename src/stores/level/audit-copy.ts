/**
 * The copy of a LevelDB folder that an audit opens, so that the folder itself is never changed:
 * opening a database recovers its write-ahead log (a damaged block and the old `.log` file are
 * deleted, a new table and MANIFEST written). Table files (`*.ldb`, `*.sst`) are immutable and are
 * hard-linked when the copy is on the same file system; CURRENT, MANIFEST and `.log` are copied.
 */
import { copyFile, link, readdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { OpenFailedError } from '../../errors.js'
import { describeOpenFailure } from './open-failure.js'
import { makeTemporaryFolder, type TemporaryFolder } from './temporary-folders.js'

const TABLE = /\.(?:ldb|sst)$/
// LevelDB's own text log of what it did: not part of the database.
const NOT_COPIED = new Set(['LOG', 'LOG.old', 'LOCK'])

export interface AuditCopyOptions {
  /**
   * Make the copy's LOCK the folder's LOCK file (a hard link): LevelDB locks that file when it opens
   * the copy, so a process holding the folder makes the open fail as locked, and no process can
   * open the folder while the audit holds it.
   */
  shareLock: boolean
}

/** Copies `location` into a new temporary folder (removed by its remove()). */
export async function copyForAudit(location: string, options: AuditCopyOptions): Promise<TemporaryFolder> {
  const folder = await makeCopyFolder(location).catch((error: unknown) => {
    throw new OpenFailedError(`no folder for the audit's copy of ${location} could be made: ${describeOpenFailure(tmpdir(), error)}`, { cause: error })
  })
  try {
    for (const entry of await readdir(location, { withFileTypes: true })) {
      if (!entry.isFile()) continue
      const from = join(location, entry.name)
      const to = join(folder.path, entry.name)
      if (entry.name === 'LOCK') {
        if (options.shareLock) await linkLock(location, from, to)
      } else if (NOT_COPIED.has(entry.name)) {
        continue
      } else if (TABLE.test(entry.name)) {
        await link(from, to).catch(() => copyFile(from, to))
      } else {
        await copyFile(from, to)
      }
    }
    return folder
  } catch (error) {
    await folder.remove().catch(() => {})
    if (error instanceof OpenFailedError) throw error
    throw new OpenFailedError(`copying ${location} for the audit failed: ${describeOpenFailure(location, error)}`, { cause: error })
  }
}

async function linkLock(location: string, from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // No LOCK file: nobody has opened the folder since it was made or copied.
    throw new OpenFailedError(
      `${location} could not be opened for an audit: its LOCK file could not be linked into the audit's copy ` +
        `(${describeOpenFailure(from, error)}), so whether another process holds it cannot be seen; ` +
        'audit a copy instead (copy: true, the command\'s --copy)',
      { cause: error },
    )
  }
}

// In the temporary folder when it is on the folder's file system (so tables and LOCK can be linked),
// else beside the folder, else (a parent we cannot write) in the temporary folder all the same.
async function makeCopyFolder(location: string): Promise<TemporaryFolder> {
  const temporary = tmpdir()
  const [here, there] = await Promise.all([stat(location), stat(temporary).catch(() => undefined)])
  if (there === undefined || there.dev !== here.dev) {
    const beside = dirname(resolve(location))
    const folder = await makeTemporaryFolder(beside, '.changesources-audit-').catch(() => undefined)
    if (folder !== undefined) return folder
  }
  return makeTemporaryFolder(temporary, 'changesources-audit-')
}

/** The names, sizes and modification times of the folder's files: what a writer changes. */
export async function folderFingerprint(location: string): Promise<string> {
  const files: string[] = []
  for (const entry of (await readdir(location, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isFile() || entry.name === 'LOG' || entry.name === 'LOG.old') continue
    const { size, mtimeMs } = await stat(join(location, entry.name)).catch(() => ({ size: -1, mtimeMs: -1 }))
    files.push(`${entry.name}:${size}:${mtimeMs}`)
  }
  return files.join('\n')
}
