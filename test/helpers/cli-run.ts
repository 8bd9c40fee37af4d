/**
 * Runs the built `changesources` command (dist/cli/cli.js) as a child process, as a user runs it: with
 * stdin, an environment (TMPDIR), a reader that may go away after some bytes, and a signal that may
 * arrive mid-run.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'cli.js')

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliRunOptions {
  input?: string
  env?: NodeJS.ProcessEnv
  /** Close the reading end of stdout once this many bytes have arrived (the reader of a pipe exits). */
  closeStdoutAfter?: number
  /** Send this signal once `afterBytes` of stdout have arrived, or `afterMs` after the start. */
  signal?: { name: 'SIGINT' | 'SIGTERM'; afterMs: number }
}

export function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env })
    let stdout = ''
    let received = 0
    let stderr = ''
    child.stdout.on('data', (data: Buffer) => {
      received += data.length
      stdout += data
      if (options.closeStdoutAfter !== undefined && received >= options.closeStdoutAfter) child.stdout.destroy()
    })
    if (options.closeStdoutAfter === 0) child.stdout.destroy()
    child.stderr.on('data', (data) => (stderr += data))
    child.on('error', reject)
    let timer: NodeJS.Timeout | undefined
    if (options.signal !== undefined) {
      const { name, afterMs } = options.signal
      timer = setTimeout(() => child.kill(name), afterMs)
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin.on('error', () => {}) // A child that exited early does not read its stdin.
    child.stdin.end(options.input ?? '')
  })
}
