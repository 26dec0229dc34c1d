/**
 * Storage and job statements: FLUSH TABLE / STORAGE FLUSH TABLE, STORAGE
 * FLUSH ALL [IN ns], STORAGE COMPACT TABLE, STORAGE COMPACT ALL [IN ns]
 * (each queues a job and answers with its id) and KILL JOB. The flush
 * itself is jobs/flush.ts, the compaction jobs/compact.ts.
 */
import { checkKillJob, checkStorageCompact, checkStorageFlush } from '../auth/permissions';
import { KalamError } from '../core/errors';
import type { TableDef } from '../core/schema';
import type { StatementResult } from '../core/types';
import { requestCompaction, type CompactContext } from '../jobs/compact';
import { requestFlush, type FlushContext } from '../jobs/flush';
import type { JobScheduler } from '../jobs/scheduler';
import type { StorageStatement } from '../sql/ast';
import { okResult as ok } from './results';
import type { SessionState } from './session-state';

export interface StorageStatementContext extends FlushContext, CompactContext {
  readonly jobs: Pick<JobScheduler, 'enqueue' | 'active' | 'stopped' | 'kill'>;
}

const q = (t: TableDef) => `${t.namespace}.${t.name}`;

export async function executeStorageStatement(engine: StorageStatementContext, state: SessionState, stmt: StorageStatement): Promise<StatementResult> {
  switch (stmt.kind) {
    case 'flushTable': {
      checkStorageFlush(state.role);
      const t = engine.catalog.requireTable(stmt.table.namespace ?? state.namespace, stmt.table.name);
      const started = requestFlush(engine, t, 'manual');
      return ok(typeof started === 'string' ? started : `Storage flush started for table '${q(t)}'. Job ID: ${started.job_id}`);
    }
    case 'flushAll': {
      checkStorageFlush(state.role);
      const ns = stmt.namespace ?? undefined;
      if (ns !== undefined) engine.catalog.requireNamespace(ns);
      const ids: string[] = [];
      for (const t of engine.catalog.listTables(ns)) {
        if (t.type === 'STREAM') continue;
        const started = requestFlush(engine, t, 'manual');
        if (typeof started !== 'string') ids.push(started.job_id);
      }
      const where = ns === undefined ? '' : ` in namespace '${ns}'`;
      if (ids.length === 0) return ok(`Storage flush skipped: no pending writes${where}`);
      return ok(`Storage flush started for ${ids.length} table(s)${where}. Job IDs: ${ids.join(', ')}`, ids.length);
    }
    case 'compactTable': {
      checkStorageCompact(state.role);
      const t = engine.catalog.requireTable(stmt.table.namespace ?? state.namespace, stmt.table.name);
      const started = await requestCompaction(engine, t);
      return ok(typeof started === 'string' ? started : `Storage compaction started for table '${q(t)}'. Job ID: ${started.job_id}`);
    }
    case 'compactAll': {
      checkStorageCompact(state.role);
      const ns = stmt.namespace ?? undefined;
      if (ns !== undefined) engine.catalog.requireNamespace(ns);
      const ids: string[] = [];
      for (const t of engine.catalog.listTables(ns)) {
        if (t.type === 'STREAM') continue;
        const started = await requestCompaction(engine, t);
        if (typeof started !== 'string') ids.push(started.job_id);
      }
      const where = ns === undefined ? '' : ` in namespace '${ns}'`;
      if (ids.length === 0) return ok(`Storage compaction skipped: nothing to compact${where}`);
      return ok(`Storage compaction started for ${ids.length} table(s)${where}. Job IDs: ${ids.join(', ')}`, ids.length);
    }
    case 'killJob': {
      checkKillJob(state.role);
      const outcome = engine.jobs.kill(stmt.jobId);
      if (!outcome) throw new KalamError('JOB_NOT_FOUND', `Job '${stmt.jobId}' not found: see system.jobs for job ids`);
      if ('finished' in outcome) return ok(`Job '${stmt.jobId}' already ${outcome.finished.status}: nothing to kill`);
      return ok(`Job '${stmt.jobId}' cancelled`);
    }
  }
}

