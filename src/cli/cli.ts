#!/usr/bin/env node
/**
 * The `changesources` command: audits of a log in a LevelDB folder or on PostgreSQL (state,
 * history, verify), backup and restore (export, import), and following a PostgreSQL log live
 * (watch). Arguments are parsed here; the work is the library's (AuditLog, the store); the printing
 * is cli-output.ts. A user error is one line on stderr and a non-zero exit, never a trace, and no
 * output ever holds a password (log-location.ts).
 *
 * Exit status: 0 done (for verify: the log is whole); 1 the log is damaged (verify found a bad
 * record, another command met one, or import refused its input); 2 anything else that stopped the
 * command (no database at the location, a locked database, a bad argument, an import refused its
 * location); 141 (128 + SIGPIPE) the reader of stdout went away before the output was written;
 * 130 / 143 (128 + the signal) interrupted by SIGINT / SIGTERM (the way `watch` ends). Every exit
 * removes the temporary copies and folders the command made.
 */
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { createInterface } from 'node:readline'
import { Command, InvalidArgumentError as BadOption } from 'commander'
import { AuditLog } from '../audit/audit-log.js'
import { ChangeSourcesError, CorruptLogError, InvalidArgumentError, LocationLockedError, UnknownSchemaVersionError, messageOf } from '../errors.js'
import { PostgresLogStore } from '../stores/postgres/postgres-log-store.js'
import { describePostgresFailure, redactUrls } from '../stores/postgres/postgres-errors.js'
import { changeSourcesTable, claimDuration, claimsTable, iso, progressBar, recordRow, recordRowsHeader, recordsTable } from './cli-output.js'
import { removeTemporaryFoldersNow } from '../stores/level/temporary-folders.js'
import { checkPostgresLogExists, DEFAULT_SCHEMA, logLocation, type LogLocation } from './log-location.js'
import { followLog } from './log-follower.js'
import { checkOutputPath, writeWholeFile } from './output-file.js'
import { collectClaimsReport } from '../report/collect-claims-report.js'
import { renderReportHtml } from '../report/report-html.js'

const EXIT_DAMAGED = 1
const EXIT_FAILED = 2
const EXIT_SIGNAL_BASE = 128

// How long a signalled command may take to close its connections before it exits anyway.
const CLOSE_ON_SIGNAL_MS = 2000

/** Set by a command that must close something before a signal ends it (watch: its connections). */
let closeOnSignal: (() => Promise<void>) | undefined

// process.exit runs the 'exit' handlers, so every way out below removes the temporary folders.
process.on('exit', removeTemporaryFoldersNow)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  // once: a second Ctrl-C ends the process by the default action, closed or not.
  process.once(signal, () => {
    const status = EXIT_SIGNAL_BASE + constants.signals[signal]
    if (closeOnSignal === undefined) process.exit(status)
    setTimeout(() => process.exit(status), CLOSE_ON_SIGNAL_MS).unref()
    void closeOnSignal().finally(() => process.exit(status))
  })
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
  schema?: string
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

/** A repeatable option's parser: each value parsed and added to the ones before. */
function collect<T>(parse: (value: string) => T): (value: string, previous: T[]) => T[] {
  return (value, previous) => [...previous, parse(value)]
}

function parseSchema(value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new BadOption('expected a lower-case PostgreSQL identifier (letters, digits, _), at most 63 characters')
  return value
}

/** A usage error: one line on stderr, exit 2, as commander reports its own. */
function usageError(message: string): never {
  return program.error(message)
}

/** The location the argument names, after refusing the options that do not fit it (exit 2). */
function locate(argument: string, options: Common): LogLocation {
  const location = logLocation(argument, options.schema)
  if (location.kind === 'postgres' && options.copy === true) {
    usageError(
      '--copy is for a LevelDB folder (held by one process at a time); a log on PostgreSQL is read while masters write it, without a copy',
    )
  }
  if (location.kind === 'folder' && options.schema !== undefined) usageError('--schema is for a postgres:// URL, not a folder')
  return location
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n')
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2))
}

/** Opens the location for an audit (or a copy of it), runs `body`, and always closes (removing the copy). */
async function withLog<T>(argument: string, options: Common, label: string, body: (log: AuditLog) => Promise<T>): Promise<T> {
  const location = locate(argument, options)
  const progress = progressBar(label)
  const reporting = progress.onProgress ? { onProgress: progress.onProgress } : {}
  if (location.kind === 'postgres') await checkPostgresLogExists(location)
  const log = await AuditLog.open(
    location.kind === 'postgres' ? { postgres: location.postgres, ...reporting } : { location: location.path, copy: options.copy === true, ...reporting },
  )
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
    message = `unexpected error: ${messageOf(error)}`
    if (process.env.CHANGESOURCES_DEBUG === '1') console.error(error)
  }
  // Every message passes here: a URL in it (an error's own text, a received value) loses its password.
  process.stderr.write(`changesources: ${redactUrls(message)}\n`)
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
  .description(
    'Audit a changesources log, in a LevelDB folder or on PostgreSQL: the state now or then, who held what and when, whether the log is whole; ' +
      'export and import it; follow it live.',
  )
  .version(version)
  .configureOutput({ outputError: (text, write) => write(`changesources: ${text.replace(/^error: /, '')}`) })
  .exitOverride((error) => {
    // Help and version exit 0; a usage error exits 2, like the other user errors.
    process.exit(error.exitCode === 0 ? 0 : EXIT_FAILED)
  })

const json = ['--json', 'print JSON for scripts instead of tables'] as const
const copy = ['--copy', 'audit a copy of the folder (for a database a running master holds locked); the copy is removed afterwards; not for a URL'] as const
const schema = ['--schema <name>', `the PostgreSQL schema holding the log, for a postgres:// URL (default ${DEFAULT_SCHEMA})`, parseSchema] as const
const locationArgument = ['<location>', 'the folder of the LevelDB database, or a postgres:// URL (the password from PGPASSWORD or ~/.pgpass)'] as const

program.addHelpText(
  'after',
  `
A location is a LevelDB folder or a postgres:// (postgresql://) URL; a password is never printed.
Give it with PGPASSWORD or ~/.pgpass rather than in the URL, which other users may see in ps.

Examples:
  changesources verify ./data/changesources
  changesources state postgres://auditor@db.example.com/buildbot --schema changesources
  changesources export ./data/changesources | changesources import postgres://buildbot@db.example.com/buildbot
  changesources watch postgres://auditor@db.example.com/buildbot --from 1 --json`,
)

program
  .command('state')
  .description('the change sources and the master holding each, now or at a point in the past')
  .argument(...locationArgument)
  .option('--at <seq|time>', 'after this seq, or at this ISO time (e.g. 2026-11-24T14:00:00Z)', parsePoint)
  .option(...json)
  .option(...copy)
  .option(...schema)
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
  .argument(...locationArgument)
  .option('--changesource <id|name>', 'only this change source (a number is an id, anything else a name)')
  .option('--master <id>', 'only this master', wholeNumberFrom1('an id'))
  .option('--since <time>', 'only from this ISO time on', parseTime)
  .option('--until <time>', 'only up to this ISO time', parseTime)
  .option('--to <seq>', 'read the log only up to this seq (default the head): on a damaged log, the seq before the damage', wholeNumberFrom1('a seq'))
  .option('--records', 'also list the matching records')
  .option(...json)
  .option(...copy)
  .option(...schema)
  .action(
    action(
      async (
        location: string,
        options: Common & { changesource?: string; master?: number; since?: number; until?: number; to?: number; records?: boolean },
      ) => {
        await withLog(location, options, 'reading', async (log) => {
          const source = options.changesource
          const history = await log.history({
            ...(source === undefined ? {} : /^[1-9]\d*$/.test(source) ? { changesourceid: Number(source) } : { name: source }),
            ...(options.master === undefined ? {} : { masterid: options.master }),
            ...(options.since === undefined ? {} : { since: options.since }),
            ...(options.until === undefined ? {} : { until: options.until }),
            ...(options.to === undefined ? {} : { toSeq: options.to }),
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
  .command('report')
  .description('the claims timeline as one self-contained HTML page (-o): a lane per change source, a bar per claim, the gaps, the state at the end, the verify line')
  .argument(...locationArgument)
  .option('--since <time>', 'only from this ISO time on', parseTime)
  .option('--until <time>', 'only up to this ISO time', parseTime)
  .option('--changesource <id|name>', 'only this change source (a number is an id, anything else a name); repeat for more', collect<number | string>((value) => (/^[1-9]\d*$/.test(value) ? Number(value) : value)), [])
  .option('--master <id>', 'only the claims of this master; repeat for more', collect(wholeNumberFrom1('an id')), [])
  .option('-o, --output <file>', 'write the HTML page to this file (with --json: the JSON)')
  .option('--json', 'the same data as JSON: to stdout, or to the -o file')
  .option(...copy)
  .option(...schema)
  .action(
    action(
      async (
        argument: string,
        options: Common & { since?: number; until?: number; changesource: (number | string)[]; master: number[]; output?: string },
      ) => {
        if (options.output === undefined && !options.json) usageError('report needs -o <file> for the HTML page, or --json for the data')
        if (options.since !== undefined && options.until !== undefined && options.since > options.until) usageError('--since must not be after --until')
        if (options.output !== undefined) await checkOutputPath('--output', options.output)
        const source = logLocation(argument, options.schema).display
        const report = await withLog(argument, options, 'reading', (log) =>
          collectClaimsReport(log, {
            source,
            ...(options.since === undefined ? {} : { since: options.since }),
            ...(options.until === undefined ? {} : { until: options.until }),
            changesources: options.changesource,
            masterids: options.master,
          }),
        )
        const text = options.json ? JSON.stringify(report, null, 2) + '\n' : renderReportHtml(report)
        if (options.output === undefined) print(text)
        else {
          await writeWholeFile(options.output, text)
          process.stderr.write(`wrote ${options.output}: ${report.lanes.length} change sources, ${report.intervals.length} claims, ${report.gaps.length} gaps\n`)
        }
        if (!report.verify.ok) {
          // The report shows the log up to the damage; the exit code says it is damaged, as verify's does.
          process.stderr.write(`the log is damaged at seq ${report.verify.seq}: ${report.verify.problem}; the report shows the ${report.verify.length} records before it\n`)
          process.exitCode = EXIT_DAMAGED
        }
      },
    ),
  )

program
  .command('verify')
  .description('check the whole log: every record present, in order, decodable, and chained; exit 0 only when it is whole')
  .argument(...locationArgument)
  .option(...json)
  .option(...copy)
  .option(...schema)
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
  .argument(...locationArgument)
  .option('--from <seq>', 'the first seq (default 1)', wholeNumberFrom1('a seq'))
  .option('--to <seq>', 'the last seq (default the head)', wholeNumberFrom1('a seq'))
  .option(...copy)
  .option(...schema)
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
  .argument(
    '<location>',
    'the folder to create (or an empty folder), or a postgres:// URL whose schema holds no records yet; the log appears there only when the whole input is in',
  )
  .option(...schema)
  .action(
    action(async (argument: string, options: Common) => {
      const location = locate(argument, options)
      const progress = progressBar('importing')
      try {
        // Take the iterator now: readline buffers lines only once it exists, and opening the database comes first.
        const reading = createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]()
        const lines = { [Symbol.asyncIterator]: () => reading }
        const reporting = progress.onProgress ? { onProgress: (seq: number) => progress.onProgress!(seq, seq) } : {}
        const { records } = await AuditLog.import(
          location.kind === 'postgres' ? { postgres: location.postgres, ...reporting } : { location: location.path, ...reporting },
          lines,
        )
        process.stderr.write(`imported ${records} records into ${location.display}\n`)
      } catch (error) {
        if (error instanceof CorruptLogError || error instanceof UnknownSchemaVersionError) {
          const problem = error instanceof CorruptLogError ? error.problem : error.message
          process.stderr.write(`changesources: import refused the input at seq ${error.seq ?? '?'}: ${problem}; nothing was imported\n`)
          process.exitCode = EXIT_DAMAGED
          return
        }
        if (error instanceof InvalidArgumentError && error.argument === 'location' && location.kind === 'postgres') {
          // importLines names its target `location`; on PostgreSQL the target is the schema's log.
          process.stderr.write(`changesources: import refused: ${location.display} already holds records (import writes only into an empty log); nothing was imported\n`)
          process.exitCode = EXIT_FAILED
          return
        }
        throw error
      } finally {
        progress.stop()
      }
    }),
  )

program
  .command('watch')
  .description('follow a log on PostgreSQL: print each record as masters append it, until Ctrl-C (exit 130)')
  .argument('<url>', 'a postgres:// URL (a LevelDB folder is held by its master alone: see `history --records --copy`)')
  .option('--from <seq>', 'first print the records from this seq, then the new ones (default: only the new ones)', wholeNumberFrom1('a seq'))
  .option('--json', 'print JSON Lines (one record per line) instead of rows')
  .option(...schema)
  .action(
    action(async (argument: string, options: Common & { from?: number }) => {
      const location = locate(argument, options)
      if (location.kind !== 'postgres') {
        usageError(
          `watch follows a log on PostgreSQL (a postgres:// URL): a LevelDB folder is open in one process at a time, its master's, so no other ` +
            `process can see its records as they are appended. For ${location.display}, use \`changesources history <folder> --records --copy\` ` +
            'or `changesources export <folder> --from <seq> --copy`',
        )
      }
      await checkPostgresLogExists(location)
      const store = await PostgresLogStore.open(location.postgres, { sync: true, create: false })
      let stop = (): void => {}
      const stopped = new Promise<void>((resolve) => (stop = resolve))
      let following: Promise<void> = Promise.resolve()
      closeOnSignal = async () => {
        stop()
        await following.catch(() => {})
        await store.close()
      }
      let troubled = false
      if (!options.json) print(recordRowsHeader())
      following = followLog(store, {
        ...(options.from === undefined ? {} : { from: options.from }),
        stopped,
        retryMs: 1000,
        onRecords: async (records) => {
          troubled = false
          const text = records.map((record) => (options.json ? JSON.stringify(record) : recordRow(record))).join('\n') + '\n'
          if (!process.stdout.write(text)) await once(process.stdout, 'drain')
        },
        onTrouble: (error) => {
          // Said once per outage, not once per retry.
          if (!troubled) process.stderr.write(`changesources: ${location.display} cannot be read now (${describePostgresFailure(error)}); retrying\n`)
          troubled = true
        },
      })
      try {
        await following
      } finally {
        await store.close()
      }
    }),
  )

await program.parseAsync(process.argv)
