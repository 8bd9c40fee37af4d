/**
 * A file the command writes (`report -o`): its folder is checked before any work, and the file
 * appears whole or not at all (written beside it under a temporary name, then renamed).
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { access, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { InvalidArgumentError } from '../errors.js'

/** Refuses, before anything is read, a path whose folder is missing or not writable, or that is a folder. */
export async function checkOutputPath(argument: string, path: string): Promise<void> {
  const expectation = 'a file path in a folder that exists and may be written'
  try {
    if ((await stat(path)).isDirectory()) throw new InvalidArgumentError(argument, `${expectation}, not a folder`, path)
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidArgumentError(argument, expectation, path, { cause: error })
  }
  try {
    await access(dirname(path), constants.W_OK)
  } catch (error) {
    throw new InvalidArgumentError(argument, expectation, path, { cause: error })
  }
}

export async function writeWholeFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await writeFile(temporary, text)
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}
