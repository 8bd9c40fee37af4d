/**
 * Why a database could not be opened, in words: LevelDB and abstract-level say "Database failed to
 * open" and keep the reason in `cause`, and a message without the reason sends the reader to a
 * debugger.
 */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the filesystem is read-only',
  ENOTDIR: 'the path (or a folder on it) is not a folder',
  EEXIST: 'a file is in the way',
  ELOOP: 'too many symbolic links (a symlink loop?)',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the path is too long',
  ENOENT: 'no such file or folder',
}

/** A sentence saying what went wrong opening `location`, from the innermost cause that says it. */
export function describeOpenFailure(location: string, error: unknown): string {
  return `${location} could not be opened: ${reasonOf(error)}`
}

function reasonOf(error: unknown): string {
  const chain: unknown[] = []
  for (let current = error; current !== undefined && current !== null && chain.length < 8; current = (current as { cause?: unknown }).cause) {
    chain.push(current)
  }
  for (const link of chain) {
    const code = (link as { code?: unknown }).code
    if (typeof code === 'string' && code in REASONS) return `${REASONS[code]} (${code})`
  }
  // LevelDB's own words are in the innermost message ("IO error: …/LOCK: Permission denied").
  for (const link of chain.reverse()) {
    const message = (link as { message?: unknown })?.message
    if (typeof message === 'string' && message.length > 0 && message !== 'Database failed to open') return message
  }
  return String(error)
}
