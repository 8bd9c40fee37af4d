#!/usr/bin/env node
/**
 * The `changesources` command: audits of a log on disk (state, history, verify), and backup and
 * restore (export, import). Arguments are parsed here; the work is the library's (AuditLog); the
 * printing is cli-output.ts. A user error is one line on stderr and a non-zero exit, never a trace.
 *
 * Exit status: 0 done (for verify: the log is whole); 1 the log is damaged (verify found a bad
 * record, another command met one, or import refused its input); 2 anything else that stopped the
 * command (no database at the location, a locked database, a bad argument, an import refused its
 * location); 141 (128 + SIGPIPE) the reader of stdout went away before the output was written;
 * 130 / 143 (128 + the signal) interrupted by SIGINT / SIGTERM. Every exit removes the temporary
 * copies and folders the command made.
 */
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { createInterface } from 'node:readline'
import { Command, InvalidArgumentError as BadOption } from 'commander'
import { AuditLog } from '../audit/audit-log.js'
import { ChangeSourcesError, CorruptLogError, InvalidArgumentError, LocationLockedError, UnknownSchemaVersionError } from '../errors.js'
import { changeSourcesTable, claimDuration, claimsTable, iso, progressBar, recordsTable } from './cli-output.js'
import { removeTemporaryFoldersNow } from './temporary-folders.js'

const EXIT_DAMAGED = 1
const EXIT_FAILED = 2
const EXIT_SIGNAL_BASE = 128

// process.exit runs the 'exit' handlers, so every way out below removes the temporary folders.
process.on('exit', removeTemporaryFoldersNow)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => process.exit(EXIT_SIGNAL_BASE + constants.signals[signal]))
}
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // The reader went away (`| head`): stop quietly, as a Unix tool killed by SIGPIPE (which Node ignores) would.
  if (error.code === 'EPIPE') process.exit(EXIT_SIGNAL_BASE + constants.signals.SIGPIPE)
  process.stderr.write(`changesources: writing the output failed: ${error.message}\n`)
  process.exit(EXIT_FAILED)
})

interface Common {
  json?: boolean
  copy?: boolean
}

// Strict ISO 8601 (a date, optionally a time and zone): Date.parse alone accepts "Tuesday 2".
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

function parseTime(value: string): number {
  const time = ISO_TIME.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(time)) throw new BadOption('expected an ISO time such as 2026-11-24T14:00:00Z')
  return time
}

function parsePoint(value: string): { seq: number } | { time: number } {
  if (/^\d+$/.test(value)) return { seq: Number(value) }
  if (!ISO_TIME.test(value)) throw new BadOption('expected a seq (a whole number) or an ISO time such as 2026-11-24T14:00:00Z')
  return { time: parseTime(value) }
}

/** A parser for a seq or an id on the command line: a whole number from 1. */
function wholeNumberFrom1(what: string): (value: string) => number {
  return (value) => {
    if (!/^[1-9]\d*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new BadOption(`expected ${what}: a whole number from 1`)
    return Number(value)
  }
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n')
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2))
}

/** Opens the location for an audit (or a copy of it), runs `body`, and always closes (removing the copy). */
async function withLog<T>(location: string, options: Common, label: string, body: (log: AuditLog) => Promise<T>): Promise<T> {
  const progress = progressBar(label)
  const log = await AuditLog.open({ location, copy: options.copy === true, ...(progress.onProgress ? { onProgress: progress.onProgress } : {}) })
  try {
    return await body(log)
  } finally {
    progress.stop()
    await log.close()
  }
}

/** One line on stderr and the exit status for `error`; a trace only for a bug, and only with CHANGESOURCES_DEBUG=1. */
function fail(error: unknown): void {
  let message: string
  let status = EXIT_FAILED
  if (error instanceof LocationLockedError) {
    message = `${error.location} is locked: a running master (or another process) has this database open, and LevelDB allows one process at a time. Add --copy to audit a copy of it instead.`
  } else if (error instanceof CorruptLogError || error instanceof UnknownSchemaVersionError) {
    message = `${error.message} (run \`changesources verify\` on the location for a report)`
    status = EXIT_DAMAGED
  } else if (error instanceof ChangeSourcesError) {
    message = error.message
  } else {
    message = `unexpected error: ${(error as Error)?.message ?? String(error)}`
    if (process.env.CHANGESOURCES_DEBUG === '1') console.error(error)
  }
  process.stderr.write(`changesources: ${message}\n`)
  process.exitCode = status
}

function action<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args)
    } catch (error) {
      fail(error)
    }
  }
}

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

const program = new Command()
  .name('changesources')
  .description('Audit a changesources log: the state now or then, who held what and when, whether the log is whole; export and import it.')
  .version(version)
  .configureOutput({ outputError: (text, write) => write(`changesources: ${text.replace(/^error: /, '')}`) })
  .exitOverride((error) => {
    // Help and version exit 0; a usage error exits 2, like the other user errors.
    process.exit(error.exitCode === 0 ? 0 : EXIT_FAILED)
  })

const json = ['--json', 'print JSON for scripts instead of tables'] as const
const copy = ['--copy', 'audit a copy of the folder (for a database a running master holds locked); the copy is removed afterwards'] as const

program
  .command('state')
  .description('the change sources and the master holding each, now or at a point in the past')
  .argument('<location>', 'the folder of the LevelDB database')
  .option('--at <seq|time>', 'after this seq, or at this ISO time (e.g. 2026-11-24T14:00:00Z)', parsePoint)
  .option(...json)
  .option(...copy)
  .action(
    action(async (location: string, options: Common & { at?: { seq: number } | { time: number } }) => {
      await withLog(location, options, 'replaying', async (log) => {
        if (options.at !== undefined && 'seq' in options.at && options.at.seq > log.head) {
          throw new InvalidArgumentError('--at', `a seq from 0 to the log's head (${log.head})`, options.at.seq)
        }
        const view = await log.at(options.at ?? { seq: log.head })
        const changeSources = await view.getChangeSources()
        if (options.json) {
          printJson({ seq: view.seq, hash: view.hash, timestamp: view.timestamp ?? null, head: log.head, changeSources })
          return
        }
        print(`State after seq ${view.seq} of ${log.head} (${iso(view.timestamp)}):`)
        print(changeSourcesTable(changeSources))
      })
    }),
  )

program
  .command('history')
  .description('the timeline: claim intervals with their durations and why each ended, and the records')
  .argument('<location>', 'the folder of the LevelDB database')
  .option('--changesource <id|name>', 'only this change source (a number is an id, anything else a name)')
  .option('--master <id>', 'only this master', wholeNumberFrom1('an id'))
  .option('--since <time>', 'only from this ISO time on', parseTime)
  .option('--until <time>', 'only up to this ISO time', parseTime)
  .option('--records', 'also list the matching records')
  .option(...json)
  .option(...copy)
  .action(
    action(
      async (
        location: string,
        options: Common & { changesource?: string; master?: number; since?: number; until?: number; records?: boolean },
      ) => {
        await withLog(location, options, 'reading', async (log) => {
          const source = options.changesource
          const history = await log.history({
            ...(source === undefined ? {} : /^[1-9]\d*$/.test(source) ? { changesourceid: Number(source) } : { name: source }),
            ...(options.master === undefined ? {} : { masterid: options.master }),
            ...(options.since === undefined ? {} : { since: options.since }),
            ...(options.until === undefined ? {} : { until: options.until }),
          })
          const now = Date.now()
          if (options.json) {
            printJson({
              claims: history.claims.map((claim) => ({ ...claim, durationMs: claimDuration(claim, now) })),
              records: history.records,
            })
            return
          }
          print(`Claims (${history.claims.length}):`)
          print(claimsTable(history.claims, now))
          if (options.records) {
            print(`Records (${history.records.length}):`)
            print(recordsTable(history.records))
          } else {
            print(`${history.records.length} matching records (add --records to list them)`)
          }
        })
      },
    ),
  )

program
  .command('verify')
  .description('check the whole log: every record present, in order, decodable, and chained; exit 0 only when it is whole')
  .argument('<location>', 'the folder of the LevelDB database')
  .option(...json)
  .option(...copy)
  .action(
    action(async (location: string, options: Common) => {
      await withLog(location, options, 'verifying', async (log) => {
        const report = await log.verify()
        if (options.json) printJson(report)
        else if (report.ok) print(`The log is whole: ${report.length} records, head hash ${report.headHash}`)
        else {
          print(`The log is damaged at seq ${report.seq}: ${report.problem}`)
          print(`The ${report.length} records before it are whole (hash at seq ${report.length}: ${report.headHash}).`)
        }
        if (!report.ok) process.exitCode = EXIT_DAMAGED
      })
    }),
  )

program
  .command('export')
  .description('write the records to stdout as JSON Lines, exactly as stored (hashes included), checking each')
  .argument('<location>', 'the folder of the LevelDB database')
  .option('--from <seq>', 'the first seq (default 1)', wholeNumberFrom1('a seq'))
  .option('--to <seq>', 'the last seq (default the head)', wholeNumberFrom1('a seq'))
  .option(...copy)
  .action(
    action(async (location: string, options: Common & { from?: number; to?: number }) => {
      await withLog(location, options, 'exporting', async (log) => {
        const progress = progressBar('exporting')
        const to = Math.min(options.to ?? log.head, log.head)
        let done = 0
        try {
          for await (const line of log.export({ ...(options.from ? { from: options.from } : {}), to })) {
            if (!process.stdout.write(line + '\n')) await once(process.stdout, 'drain')
            if (++done % 1000 === 0) progress.onProgress?.(done, to - (options.from ?? 1) + 1)
          }
        } finally {
          progress.stop()
        }
      })
    }),
  )

program
  .command('import')
  .description('read JSON Lines (from export) on stdin into an empty location, checking seq and chain as it goes')
  .argument('<location>', 'the folder to create (or an empty folder); the database appears there only when the whole input is in')
  .action(
    action(async (location: string) => {
      const progress = progressBar('importing')
      try {
        // Take the iterator now: readline buffers lines only once it exists, and opening the database comes first.
        const reading = createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]()
        const lines = { [Symbol.asyncIterator]: () => reading }
        const { records } = await AuditLog.import(
          { location, ...(progress.onProgress ? { onProgress: (seq: number) => progress.onProgress!(seq, seq) } : {}) },
          lines,
        )
        process.stderr.write(`imported ${records} records into ${location}\n`)
      } catch (error) {
        if (error instanceof CorruptLogError || error instanceof UnknownSchemaVersionError) {
          const problem = error instanceof CorruptLogError ? error.problem : error.message
          process.stderr.write(`changesources: import refused the input at seq ${error.seq ?? '?'}: ${problem}; nothing was imported\n`)
          process.exitCode = EXIT_DAMAGED
          return
        }
        throw error
      } finally {
        progress.stop()
      }
    }),
  )

await program.parseAsync(process.argv)
