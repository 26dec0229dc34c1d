/**
 * Statement text → plan, through the plan cache (ARCHITECTURE decision 2):
 * literals are lifted out of the text so statements that differ only in
 * their constants share one compiled plan. Statements that are not DML come
 * back parsed, for dispatch. Access to every table a plan names is checked
 * here, up front, whether or not execution reaches it.
 */
import { can, checkRead, checkSystemRead, checkWrite } from '../auth/permissions';
import type { Catalog, ViewDef } from '../catalog/catalog';
import type { Value } from '../core/types';
import { PlanCache } from '../plan/cache';
import { recordPlan } from '../plan/explain';
import { scanTemplates, type ScanTemplate } from '../plan/scan-bounds';
import { planHooks } from '../plan/scan-plan';
import { beginVectorPlan, vectorPlanned } from '../plan/vector-plan';
import { planSelect, type SelectPlan } from '../plan/select';
import type { SourceResolver } from '../plan/source';
import { planDelete, planInsert, planUpdate, type WritePlan } from '../plan/write';
import type { expandViews as ExpandViews, ViewLookup } from '../plan/view-expand';
import { notLoaded } from '../plan/call-hooks';
import { isDml, type DmlStatement, type SelectStmt, type Statement } from '../sql/ast';
import { KalamError } from '../core/errors';
import { liftLiterals, tokenize, type LiteralType, type Token } from '../sql/lexer';
import { limitExceeded, SQL_LIMIT_DEFAULTS, stackExhausted, type SqlLimits } from '../sql/limits';
import { parseStatement } from '../sql/parse';

/**
 * View expansion (plan/view-expand.ts), an SQL extension
 * (execute/sql-extensions.ts): loaded while the catalog has a view, and
 * before a statement whose text says VIEW. Without a view there is nothing
 * to expand.
 */
let expansion: typeof ExpandViews | undefined;

export function registerViewExpansion(expand: typeof ExpandViews): void {
  expansion = expand;
}

import type { SessionState } from './session-state';

export type Plan = SelectPlan | WritePlan;

/** system.* is for dba/system: refuse before anything else, even a name that does not exist. */
function checkSystemNames(state: SessionState, tokens: readonly Token[]): void {
  if (can(state.role, 'readSystemTables')) return;
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i];
    if ((t.type === 'word' || t.type === 'quoted') && t.text.toLowerCase() === 'system' && tokens[i + 1].text === '.') {
      const name = tokens[i + 2]?.text.toLowerCase() ?? '';
      checkSystemRead(state.role, name);
    }
  }
}

/** More parameter values than maxParameters is LIMIT_EXCEEDED (before any is read). */
export function checkParameterCount(params: readonly unknown[], limits: SqlLimits): void {
  if (Array.isArray(params) && params.length > limits.maxParameters) {
    throw limitExceeded('maxParameters', `A call with ${params.length.toLocaleString('en-US')} parameter values`, limits.maxParameters);
  }
}

/** A planned statement with its parameter values (user parameters, then lifted literals), or a statement that is not DML. */
export type Planned = { plan: Plan; params: Value[] } | { stmt: Statement };

export class StatementPlanner {
  readonly plans: PlanCache<Plan>;
  /** Cold scan templates per plan (the plan cache owns plans; this follows them). */
  private readonly coldScans = new WeakMap<object, ScanTemplate[]>();
  /** The catalog's view epoch each plan that expanded a view was made under (follows the plan cache's plans). */
  private readonly viewEpochs = new WeakMap<object, number>();
  private readonly viewLookup: ViewLookup = {
    findView: (ns, name) => this.catalog.findView(ns, name),
    parseView: (v) => this.parseView(v),
  };

  constructor(
    private readonly catalog: Catalog,
    private readonly sources: SourceResolver,
    planCacheSize: number,
    /** The SQL limits every statement planned here is held to. */
    readonly limits: SqlLimits = SQL_LIMIT_DEFAULTS,
  ) {
    this.plans = new PlanCache<Plan>(planCacheSize);
  }

  /** Plans a statement through the plan cache, checking access to every table it names. */
  plan(state: SessionState, text: string, params: readonly Value[]): Planned {
    checkParameterCount(params, this.limits);
    const tokens = tokenize(text, this.limits);
    checkSystemNames(state, tokens);
    const planned = this.planUnchecked(state, text, params, tokens);
    if ('plan' in planned) {
      // The write first: an INSERT is refused as a write, not as a read of its target (every role
      // that may write a table may also read it, so the order only decides which check speaks).
      if (planned.plan.kind === 'write') checkWrite(state.role, planned.plan.target);
      for (const id of planned.plan.tableIds) {
        const t = this.catalog.tableById(id);
        if (t) checkRead(state.role, t);
      }
    }
    return planned;
  }

  /**
   * The tables a DML statement names, planned without access checks (for
   * checks that must speak before access does: EXECUTE AS USER refuses a
   * SHARED table as such); undefined for a statement that is not DML.
   */
  tablesOf(state: SessionState, text: string, params: readonly Value[]): readonly number[] | undefined {
    checkParameterCount(params, this.limits);
    const planned = this.planUnchecked(state, text, params, tokenize(text, this.limits));
    return 'plan' in planned ? planned.plan.tableIds : undefined;
  }

  /**
   * Plans a SELECT for EXPLAIN: outside the plan cache, views expanded,
   * with its plan described (and with `analyze`, instrumented), access
   * checked as plan() does.
   */
  planExplained(state: SessionState, text: string, params: readonly Value[], analyze: boolean): { plan: SelectPlan; params: Value[] } {
    checkParameterCount(params, this.limits);
    const tokens = tokenize(text, this.limits);
    checkSystemNames(state, tokens);
    const stmt = parseStatement(text, tokens, this.limits);
    if (stmt.kind !== 'select') {
      throw new KalamError('UNSUPPORTED', `EXPLAIN shows the plan of a SELECT; '${tokens[0].text}' statements are not explained. Explain the SELECT that finds the rows instead`);
    }
    const ns = state.namespace;
    const plan = this.withStackGuard(() => {
      this.expandViews(stmt, this.viewLookup, ns);
      return recordPlan(analyze, () => planSelect(stmt, this.sources, ns));
    });
    this.coldScans.set(plan, scanTemplates(stmt, (n, name) => ((n ?? ns) === 'system' ? undefined : this.catalog.findTable(n ?? ns, name))));
    for (const id of plan.tableIds) {
      const t = this.catalog.tableById(id);
      if (t) checkRead(state.role, t);
    }
    return { plan, params: params.slice() as Value[] };
  }

  /** Every view `stmt` reads replaced by its query (plan/view-expand.ts); 0 at once when the catalog has no view. */
  private expandViews(stmt: Parameters<typeof ExpandViews>[0], lookup: ViewLookup, ns: string, within?: string): number {
    if (!expansion) {
      if (this.catalog.listViews().length === 0) return 0;
      throw notLoaded('Views');
    }
    return expansion(stmt, lookup, ns, this.limits, within);
  }

  /**
   * Plans a view's query for `state`, as CREATE VIEW checks it and DESCRIBE
   * shows its columns. With `pending`, `view` stands in for the catalog's
   * view of its name (a CREATE OR REPLACE that would make a cycle is found).
   */
  planView(state: SessionState, view: ViewDef, pending = false): SelectPlan {
    const stmt = this.parseView(view, state);
    const lookup: ViewLookup = {
      findView: (ns, name) => (pending && ns === view.namespace && name === view.name ? view : this.catalog.findView(ns, name)),
      parseView: (v) => this.parseView(v),
    };
    const plan = this.withStackGuard(() => {
      this.expandViews(stmt, lookup, view.namespace, `${view.namespace}.${view.name}`);
      return planSelect(stmt, this.sources, view.namespace);
    });
    for (const id of plan.tableIds) {
      const t = this.catalog.tableById(id);
      if (t) checkRead(state.role, t);
    }
    return plan;
  }

  /** A view's query, parsed afresh; with `state`, system.* names in it are checked against its role first. */
  private parseView(view: ViewDef, state?: SessionState): SelectStmt {
    const tokens = tokenize(view.query, this.limits);
    if (state) checkSystemNames(state, tokens);
    const stmt = parseStatement(view.query, tokens, this.limits);
    if (stmt.kind !== 'select') throw new KalamError('INVALID_SQL', `The query of view '${view.namespace}.${view.name}' must be a SELECT`);
    return stmt;
  }

  /** The cold scans of a plan (which segments its WHERE can rule out); [] when unknown. */
  scansOf(plan: object): readonly ScanTemplate[] {
    return this.coldScans.get(plan) ?? [];
  }

  /** The schema versions of the tables a plan read when it was compiled (a dropped table reads as -1). */
  schemaStamp(tableIds: readonly number[]): string {
    return tableIds.map((id) => this.catalog.tableById(id)?.version ?? -1).join(',');
  }

  private planUnchecked(state: SessionState, text: string, params: readonly Value[], tokens: Token[]): Planned {
    const head = tokens[0]?.text.toUpperCase();
    if (head !== 'SELECT' && head !== 'INSERT' && head !== 'UPDATE' && head !== 'DELETE' && head !== 'WITH' && head !== 'VALUES' && head !== '(') {
      return { stmt: parseStatement(text, tokens, this.limits) };
    }
    const lifted = liftLiterals(text, tokens);
    // Before anything is sized by the highest $n (the lexer has held it to maxParameters).
    if (lifted.paramCount > params.length) {
      throw new KalamError('INVALID_PARAMETER', `The statement uses $${lifted.paramCount} but only ${params.length} parameter(s) were given: pass a value for each $n`);
    }
    const userParams: Value[] = [];
    for (let i = 0; i < lifted.paramCount; i++) userParams.push(params[i] as Value);
    // Literal types belong to the plan's shape: `7 / 2` (integers) and `7.0 / 2` (numeric) lift to the same text.
    const key = `${state.namespace}\u0001${lifted.text}\u0001${literalTypeKey(lifted.types)}`;
    let plan = this.plans.get(key, this.isCurrent);
    if (plan) return { plan, params: [...userParams, ...lifted.literals] };
    let stmt: Statement;
    let usedKey = key;
    let allParams: Value[];
    try {
      stmt = parseStatement(lifted.text, undefined, this.limits);
      typeLiftedParams(stmt, lifted.paramCount, lifted.types);
      allParams = [...userParams, ...lifted.literals];
    } catch (e) {
      if (e instanceof KalamError && e.code === 'LIMIT_EXCEEDED') throw e; // the text as written is no smaller
      // Some literals cannot become parameters (typed literals, type arguments): plan the text as written.
      stmt = parseStatement(text, tokens, this.limits);
      usedKey = `${state.namespace}\u0002${text}`;
      allParams = params.slice() as Value[];
      const hit = this.plans.get(usedKey, this.isCurrent);
      if (hit) return { plan: hit, params: allParams };
    }
    if (!isDml(stmt)) return { stmt };
    const ns = state.namespace;
    const dml = stmt;
    const epoch = this.catalog.viewEpoch;
    let views = 0;
    let scans: ScanTemplate[] = [];
    planHooks.begin?.();
    beginVectorPlan();
    plan = this.withStackGuard(() => {
      views = this.expandViews(dml, this.viewLookup, ns);
      const p = this.planDml(dml, ns);
      scans = scanTemplates(dml, (n, name) => ((n ?? ns) === 'system' ? undefined : this.catalog.findTable(n ?? ns, name)));
      return p;
    });
    planHooks.planned?.(plan);
    vectorPlanned(plan);
    if (views > 0) this.viewEpochs.set(plan, epoch);
    this.coldScans.set(plan, scans);
    this.plans.set(usedKey, plan);
    return { plan, params: allParams };
  }

  /** Planning recurses over the statement, which the limits keep shallow; a stack raised past them still must not be INTERNAL. */
  private withStackGuard<T>(run: () => T): T {
    try {
      return run();
    } catch (e) {
      if (e instanceof RangeError && /call stack/i.test(e.message)) throw stackExhausted('plan', this.limits);
      throw e;
    }
  }

  /** False for a plan that expanded views which have changed since (CREATE OR REPLACE / DROP VIEW). */
  private readonly isCurrent = (plan: Plan): boolean => {
    const epoch = this.viewEpochs.get(plan);
    return epoch === undefined || epoch === this.catalog.viewEpoch;
  };

  private planDml(stmt: DmlStatement, namespace: string): Plan {
    switch (stmt.kind) {
      case 'select': return planSelect(stmt, this.sources, namespace);
      case 'insert': return planInsert(stmt, this.sources, namespace);
      case 'update': return planUpdate(stmt, this.sources, namespace);
      case 'delete': return planDelete(stmt, this.sources, namespace);
    }
  }
}

/** One letter per lifted literal's type, for the plan key. */
function literalTypeKey(types: readonly (LiteralType | undefined)[]): string {
  let k = '';
  for (const t of types) k += t === undefined ? 's' : t === 'INT' ? 'i' : t === 'BIGINT' ? 'b' : 'd';
  return k;
}

/** Gives each parameter standing for a lifted number literal its literal's type (the statement was just parsed: its nodes are its own). */
function typeLiftedParams(node: unknown, paramCount: number, types: readonly (LiteralType | undefined)[]): void {
  if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return;
  if (Array.isArray(node)) {
    for (const x of node) typeLiftedParams(x, paramCount, types);
    return;
  }
  const o = node as { kind?: unknown; index?: unknown; type?: unknown; value?: unknown };
  if (o.kind === 'literal') return; // a value, not more statement
  if (o.kind === 'param' && typeof o.index === 'number') {
    const t = types[o.index - paramCount];
    if (o.index >= paramCount && t !== undefined) o.type = t;
    return;
  }
  for (const v of Object.values(node)) typeLiftedParams(v, paramCount, types);
}
