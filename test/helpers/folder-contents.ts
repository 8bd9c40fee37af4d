import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Every file under `folder` (subfolders included), by relative path, with its bytes: to prove that nothing changed it. */
export async function folderContents(folder: string, prefix = ''): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) Object.assign(files, await folderContents(path, `${prefix}${entry.name}/`))
    else files[prefix + entry.name] = (await readFile(path)).toString('base64')
  }
  return files
}
