import { describe, expect, it } from 'vitest';
import { openDatabase } from './database';
import { KalamError } from '../core/errors';

/** The error openDatabase() fails with for these options. */
async function refusal(options: unknown): Promise<KalamError> {
  try {
    await openDatabase(options as never);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected openDatabase() to fail');
}

describe('openDatabase() options', () => {
  it("refuses an unknown storage name with INVALID_OPTION naming the storages there are", async () => {
    const e = await refusal({ storage: 'indexeddb' });
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toContain("'idb'");
    expect(e.message).toContain("'opfs'");
    expect(e.message).toContain("'memory'");
  });

  it('refuses an object that is not a KvStore as storage', async () => {
    expect((await refusal({ storage: { get() {} } })).code).toBe('INVALID_OPTION');
  });

  it('refuses a misspelt option name and lists the valid ones', async () => {
    const e = await refusal({ storage: 'memory', planCacheSise: 10 });
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toContain("'planCacheSise'");
    expect(e.message).toContain('planCacheSize');
  });

  it('refuses counts that are not whole numbers in range, naming the option', async () => {
    for (const [key, value] of [['planCacheSize', 0], ['segmentCacheBytes', -1], ['maxLiveQueries', 2.5], ['jobBatchSize', '10'], ['flushCheckIntervalMs', Number.NaN]] as const) {
      const e = await refusal({ storage: 'memory', [key]: value });
      expect([key, e.code]).toEqual([key, 'INVALID_OPTION']);
      expect(e.message).toContain(key);
    }
  });

  it('refuses a missing options object, an empty name and a bad durability', async () => {
    expect((await refusal(undefined)).code).toBe('INVALID_OPTION');
    expect((await refusal({ storage: 'memory', name: '' })).code).toBe('INVALID_OPTION');
    expect((await refusal({ storage: 'memory', durability: 'eventually' })).message).toContain("'relaxed' or 'strict'");
  });

  it('accepts every documented option with a valid value', async () => {
    const db = await openDatabase({
      storage: 'memory', name: 'all', planCacheSize: 8, maxLiveQueries: 5, maxSubscriptionsPerSession: 2, maxAuditEntries: 10,
      maxSchemaVersions: 3, maxTransactionRows: 10, maxOpenTransactions: 2, streamEvictionIntervalMs: 0, retentionIntervalMs: 0,
      jobBatchSize: 5, maxJobHistory: 5, flushCheckIntervalMs: 0, segmentCacheBytes: 1024, maxGroupCommitStatements: 3, durability: 'strict',
      hostMetrics: () => [['host_metric', 1]],
    });
    const { rows } = await db.session({ user: 'root', role: 'dba' }).query("SELECT value FROM system.settings WHERE name = 'plan_cache_size'");
    expect(rows).toEqual([{ value: '8' }]); // system.settings values are text
    await db.close();
  });
});

describe('session options', () => {
  it('refuses options that are not an object, a namespace that is not a string and a bad client id with INVALID_PARAMETER', async () => {
    const db = await openDatabase({ storage: 'memory' });
    for (const bad of [null, 'alice', ['alice'], { user: 'alice', namespace: 5 }, { user: 'alice', client: 'has spaces' }]) {
      let error: unknown;
      try {
        db.session(bad as never);
      } catch (e) {
        error = e;
      }
      expect([bad, (error as KalamError)?.code]).toEqual([bad, 'INVALID_PARAMETER']);
    }
    await db.close();
  });

  it('refuses live SQL that is not a string with INVALID_SQL', async () => {
    const db = await openDatabase({ storage: 'memory' });
    const alice = db.session({ user: 'alice' });
    for (const sql of [null, undefined, 42, ['SELECT 1']]) {
      await expect(alice.live(sql as never, [], () => {})).rejects.toMatchObject({ code: 'INVALID_SQL' });
    }
    await db.close();
  });
});
