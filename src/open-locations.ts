/**
 * The locations this process has open. A second open of a location in the same process is refused
 * here, before LevelDB is touched: classic-level, refusing such an open, drops the lock that the
 * first instance holds, which would let another process in.
 */
import { resolve } from 'node:path'
import { realpathSync } from 'node:fs'
import { LocationLockedError } from './errors.js'

const openLocations = new Set<string>()

// The same folder reached through a symlink or a relative path is the same database.
function canonicalPath(location: string): string {
  const absolute = resolve(location)
  try {
    return realpathSync(absolute)
  } catch {
    return absolute
  }
}

/** Reserves `location` for this process; the returned function gives it back. */
export function reserveLocation(location: string): () => void {
  const path = canonicalPath(location)
  if (openLocations.has(path)) throw new LocationLockedError(path, 'this-process')
  openLocations.add(path)
  return () => void openLocations.delete(path)
}
