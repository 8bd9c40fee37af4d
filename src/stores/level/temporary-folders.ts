/**
 * The temporary folders this process made (audit copies, imports being built), so that every exit
 * path can remove them: close() removes one, and a process that must exit at once (a signal, a
 * reader gone from a pipe) calls removeTemporaryFoldersNow from its 'exit' handler.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'

const folders = new Set<string>()

export interface TemporaryFolder {
  readonly path: string
  remove(): Promise<void>
}

/** A new empty folder `<parent>/<prefix>XXXXXX`, created by us (mkdtemp never reuses an existing one). */
export async function makeTemporaryFolder(parent: string, prefix: string): Promise<TemporaryFolder> {
  // Synchronous, so that no exit can come between the folder's creation and its registration.
  const path = mkdtempSync(join(parent, prefix))
  folders.add(path)
  return {
    path,
    async remove() {
      await rm(path, { recursive: true, force: true, maxRetries: 3 })
      folders.delete(path)
    },
  }
}

/** Gives up a folder that is no longer temporary (it was renamed into place): it must not be removed. */
export function keepTemporaryFolder(folder: TemporaryFolder): void {
  folders.delete(folder.path)
}

/** Removes every temporary folder still here, synchronously: for an 'exit' handler. */
export function removeTemporaryFoldersNow(): void {
  for (const path of folders) {
    try {
      rmSync(path, { recursive: true, force: true, maxRetries: 3 })
    } catch {
      // Exiting anyway: one folder that cannot be removed must not keep the others.
    }
    folders.delete(path)
  }
}
