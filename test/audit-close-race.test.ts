// Audit reads racing close() (issue 11): close() waits for the audit reads already under way, as
// it waits for pending writes, so they answer as if no close had come; a read started after close()
// began fails with ClosedError; a verify that a close meets never reports a whole log as damaged.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditQueries } from '../src/audit/audit-queries.js'
import { AuditLog, ChangeSources, ChangeSourcesError, ClosedError, ErrorCode, type VerifyReport } from '../src/index.js'
import { LevelLogStore } from '../src/stores/level/level-log-store.js'
import { rejectsWith } from './helpers/assertions.js'

// More than one store chunk (1,000 records), so that every read below takes several awaits.
const RECORDS = 2_500

async function withFilledLocation(body: (location: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'changesources-close-race-'))
  const location = join(folder, 'db')
  try {
    const cs = await ChangeSources.open({ location, sync: false, snapshotEvery: 0 })
    const ids = await Promise.all(Array.from({ length: RECORDS / 2 }, (_, index) => cs.findChangeSourceId(`source-${index}`)))
    await Promise.all(ids.map((id) => cs.setChangeSourceMaster(id, 1 + (id % 3))))
    await cs.close()
    await body(location)
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}

test('AuditLog: at(), history() and verify() started before close() answer in full; close() waits for them', async () => {
  await withFilledLocation(async (location) => {
    const log = await AuditLog.open({ location })
    const at = log.at({ seq: RECORDS - 1 })
    const history = log.history({ masterid: 2 })
    const verify = log.verify()
    const closed = log.close()
    const [view, found, report] = await Promise.all([at, history, verify])
    await closed
    assert.is(view.seq, RECORDS - 1)
    assert.is((await view.getChangeSources()).length, RECORDS / 2)
    assert.ok(found.claims.length > 0)
    assert.is(report.ok, true, `a whole log is reported whole: ${JSON.stringify(report)}`)
    assert.is(report.length, RECORDS)
  })
})

test('AuditLog: a read() under way when close() begins ends with ClosedError at its next pull, never a raw store error', async () => {
  await withFilledLocation(async (location) => {
    const log = await AuditLog.open({ location })
    const iterator = log.read()[Symbol.asyncIterator]()
    assert.is(((await iterator.next()).value as { seq: number }).seq, 1)
    await log.close()
    await rejectsWith(() => iterator.next(), ErrorCode.closed, ClosedError)
  })
})

test('AuditLog: a read after close() began is a ClosedError', async () => {
  await withFilledLocation(async (location) => {
    const log = await AuditLog.open({ location })
    const closed = log.close()
    await rejectsWith(() => log.at({ seq: 1 }), ErrorCode.closed, ClosedError)
    await rejectsWith(() => log.verify(), ErrorCode.closed, ClosedError)
    await closed
  })
})

test('AuditQueries: settled() waits for every read started so far; close() then refuses new reads with ClosedError', async () => {
  await withFilledLocation(async (location) => {
    const db = new Level<string, string>(location)
    await db.open()
    const store = await LevelLogStore.open(db, { sync: true })
    const head = await store.head()
    const queries = new AuditQueries(store, () => head)
    const at = queries.at({ seq: RECORDS })
    const verify = queries.verify()
    let answered = 0
    void at.then(() => answered++)
    void verify.then(() => answered++)
    // The sequence ChangeSources.close() needs: refuse new reads, wait for those under way, then close the database.
    await queries.close()
    assert.is(answered, 2, 'close() resolved only after both reads had answered')
    await db.close()
    assert.is((await at).seq, RECORDS)
    assert.is((await verify).ok, true)
    await rejectsWith(() => queries.at({ seq: 1 }), ErrorCode.closed, ClosedError)
    await rejectsWith(() => queries.history(), ErrorCode.closed, ClosedError)
    await rejectsWith(() => queries.verify(), ErrorCode.closed, ClosedError)
    await rejectsWith(async () => {
      for await (const _record of queries.read()) assert.unreachable('no record after close')
    }, ErrorCode.closed, ClosedError)
  })
})

test('ChangeSources: at() and verify() racing close() resolve right or reject with one of our errors; verify never reports a whole log as damaged', async () => {
  await withFilledLocation(async (location) => {
    const cs = await ChangeSources.open({ location, snapshotEvery: 0 })
    const at = cs.at({ seq: RECORDS - 1 }).then(
      (view) => view.seq,
      (error: unknown) => error,
    )
    const verify = cs.verify().then(
      (report): VerifyReport | Error => report,
      (error: unknown) => error as Error,
    )
    await cs.close()
    const [seq, report] = await Promise.all([at, verify])
    if (typeof seq === 'number') assert.is(seq, RECORDS - 1)
    else assert.instance(seq, ChangeSourcesError, `at() rejected with ${String(seq)}`)
    if (report instanceof Error) assert.instance(report, ChangeSourcesError, `verify() rejected with ${String(report)}`)
    else assert.equal({ ok: report.ok, length: report.length }, { ok: true, length: RECORDS }, `verify() reported ${JSON.stringify(report)}`)
  })
})

test('ChangeSources: at(), history() and verify() started before close() answer in full', async () => {
  await withFilledLocation(async (location) => {
    const cs = await ChangeSources.open({ location, snapshotEvery: 0 })
    const at = cs.at({ seq: RECORDS - 1 })
    const history = cs.history({ masterid: 2 })
    const verify = cs.verify()
    await cs.close()
    const [view, found, report] = await Promise.all([at, history, verify])
    assert.is(view.seq, RECORDS - 1)
    assert.is((await view.getChangeSources()).length, RECORDS / 2)
    assert.ok(found.claims.length > 0)
    assert.equal({ ok: report.ok, length: report.length }, { ok: true, length: RECORDS })
  })
})

test.run()
