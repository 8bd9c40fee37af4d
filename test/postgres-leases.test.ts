// Leases across OS processes on the test run's PostgreSQL server (helpers/lease-holder.ts): a
// holder killed with SIGKILL is taken over by another process's sweep within the lease plus one
// sweep interval; a holder stopped with SIGSTOP past its lease is taken over, and after SIGCONT its
// renewal and owner-checked release fail with CHANGESOURCES_CLAIM_LOST, its claims$ reports the
// loss, and it appends nothing. Assertions are on the log's facts; the margins only absorb the
// processing time of a loaded machine.
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { AuditLog, ErrorCode, type ChangeRecord, type Claim } from '../src/index.js'
import { LeaseProcess } from './helpers/lease-processes.js'
import { dropSchema, testPostgres } from './helpers/postgres.js'

const LEASE_MS = 1500
const RENEW_EVERY_MS = 300
const SWEEP_INTERVAL_MS = 200
/** What a loaded machine may add to a sweep's expiry, beyond its interval: generous on purpose. */
const PROCESSING_MARGIN_MS = 3000

interface Context {
  url: string
  schema: string
  holder: LeaseProcess
  taker: LeaseProcess
}

const test = suite<Context>('leases across processes on PostgreSQL', {} as Context)

test.before.each(async (context) => {
  context.url = (await testPostgres()).url
  context.schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`
  context.holder = new LeaseProcess({ connectionString: context.url, schema: context.schema, sweepIntervalMs: SWEEP_INTERVAL_MS, master: 1 })
  await context.holder.ready
  context.taker = new LeaseProcess({ connectionString: context.url, schema: context.schema, sweepIntervalMs: SWEEP_INTERVAL_MS, master: 2 })
  await context.taker.ready
})

test.after.each(async (context) => {
  await Promise.all([context.holder.kill(), context.taker.close()])
  await dropSchema(context.schema)
})

async function logOf(url: string, schema: string): Promise<ChangeRecord[]> {
  const audit = await AuditLog.open({ postgres: { connectionString: url, schema } })
  try {
    const records: ChangeRecord[] = []
    for await (const record of audit.read()) records.push(record)
    return records
  } finally {
    await audit.close()
  }
}

/** The deadline the log implies for the lease of `claim`: from the later of it and its master's last renewal before `before`. */
function impliedDeadline(log: readonly ChangeRecord[], claim: ChangeRecord & { type: 'MasterClaimed' }, before: number): number {
  let from = claim.timestamp
  for (const record of log) {
    if (record.seq > claim.seq && record.seq < before && record.type === 'LeasesRenewed' && record.masterid === claim.masterid) from = Math.max(from, record.timestamp)
  }
  return from + claim.leaseMs!
}

/** The holder claims with a lease and renews it; resolves with its claim once a renewal is acknowledged. */
async function holdWithRenewals(holder: LeaseProcess): Promise<Claim> {
  const id = await holder.request<number>('find', { name: 'polled' })
  const claim = await holder.request<Claim>('claim', { changesourceid: id, leaseMs: LEASE_MS })
  await holder.request('startRenewing', { claims: [claim], everyMs: RENEW_EVERY_MS })
  await holder.event((event) => event.event === 'renewed')
  return claim
}

test('a holder killed with SIGKILL: another process\'s sweep records the expiry at the deadline, within one sweep interval, and it claims', async ({ url, schema, holder, taker }) => {
  const claim = await holdWithRenewals(holder)
  await holder.event((event) => event.event === 'renewed', holder.events.findIndex((event) => event.event === 'renewed') + 1)
  await holder.kill()
  const expiry = await taker.request<ChangeRecord & { type: 'MasterReleased' }>('awaitExpiry', { changesourceid: claim.changesourceid, masterid: 1 })
  const taken = await taker.request<Claim>('claim', { changesourceid: claim.changesourceid, leaseMs: LEASE_MS })
  assert.is(taken.masterid, 2)
  assert.ok(taken.token > claim.token, 'the new claim has a greater token')

  const log = await logOf(url, schema)
  const claimRecord = log.find((record) => record.seq === claim.token) as ChangeRecord & { type: 'MasterClaimed' }
  assert.is(claimRecord.type, 'MasterClaimed')
  assert.ok(log.some((record) => record.type === 'LeasesRenewed' && record.masterid === 1), 'the holder renewed before it died')
  const deadline = impliedDeadline(log, claimRecord, expiry.seq)
  assert.is(expiry.reason, 'lease-expired')
  assert.is(expiry.expiredAt, deadline, 'the expiry names the deadline the log implies')
  assert.ok(expiry.timestamp >= deadline, 'not before the deadline (maxClockSkewMs 0)')
  assert.ok(expiry.timestamp <= deadline + SWEEP_INTERVAL_MS + PROCESSING_MARGIN_MS, `recorded ${expiry.timestamp - deadline} ms after the deadline`)
  // Between the expiry and the takeover: nothing but the taker's claim.
  assert.equal(log.filter((record) => record.seq > expiry.seq).map((record) => [record.type, 'masterid' in record ? record.masterid : null]), [['MasterClaimed', 2]])
  assert.ok(log.findIndex((record) => record.seq === expiry.seq) > 0)
})

test('a holder stopped with SIGSTOP past its lease: taken over; after SIGCONT its renewal and release fail with CLAIM_LOST, claims$ reports the loss, and it appends nothing', async ({ url, schema, holder, taker }) => {
  const claim = await holdWithRenewals(holder)
  // Stopped right after an acknowledged renewal, so that no append of its own is in flight.
  const renewals = holder.events.length
  await holder.event((event) => event.event === 'renewed', renewals)
  holder.signal('SIGSTOP')
  try {
    const expiry = await taker.request<ChangeRecord & { type: 'MasterReleased' }>('awaitExpiry', { changesourceid: claim.changesourceid, masterid: 1 })
    const taken = await taker.request<Claim>('claim', { changesourceid: claim.changesourceid, leaseMs: 60_000 })
    assert.is(taken.masterid, 2)
    const before = await logOf(url, schema)
    // The holder's last record: everything after it is the expiry and the takeover, by the taker.
    const lastOfHolder = Math.max(...before.filter((record) => record.type === 'LeasesRenewed' && record.masterid === 1).map((record) => record.seq))
    assert.ok(lastOfHolder < expiry.seq)
    assert.equal(
      before.filter((record) => record.seq > lastOfHolder).map((record) => [record.seq, record.type]),
      [[expiry.seq, 'MasterReleased'], [taken.token, 'MasterClaimed']],
    )
    assert.is(expiry.expiredAt, impliedDeadline(before, before.find((record) => record.seq === claim.token) as ChangeRecord & { type: 'MasterClaimed' }, expiry.seq))

    const eventsAtResume = holder.events.length
    holder.signal('SIGCONT')
    const lost = await holder.event((event) => event.event === 'claims' && !(event.claims as Claim[]).some((held) => held.token === claim.token), eventsAtResume)
    assert.equal(lost.claims, [])
    assert.is(await holder.outcome('renew', { claims: [claim] }), ErrorCode.claimLost)
    assert.is(await holder.outcome('release', { changesourceid: claim.changesourceid, token: claim.token }), ErrorCode.claimLost)
    // Its own renewal loop, resumed, fails the same way.
    await holder.event((event) => event.event === 'renew-failed', eventsAtResume)
    assert.ok(holder.events.slice(eventsAtResume).every((event) => event.event !== 'renewed'), 'no renewal succeeded after the stop')

    const after = await logOf(url, schema)
    assert.equal(after, before, 'the log is as it was before the holder resumed')
  } finally {
    holder.signal('SIGCONT')
  }
})

test.run()
