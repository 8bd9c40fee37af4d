/** The one SHA-256 of the package: the log's hash chain, the snapshot's checksums and the name index's strong hash. */
import { hash } from 'node:crypto'

/** The SHA-256 of `text` (UTF-8), as 64 lowercase hex digits. */
export function sha256(text: string): string {
  return hash('sha256', text, 'hex')
}
