/**
 * Group commit (ARCHITECTURE decision 8). Plain write statements do not each
 * take the write lock and commit alone: they join the group that is forming,
 * and the group, once it holds the lock, runs its statements one after
 * another and writes all their changes in ONE storage commit. A group forms
 * from every statement that arrives before it gets the lock — those issued
 * in the same tick, and those that arrive while the previous commit is in
 * flight — so a burst of single-row inserts costs one durable commit.
 *
 * Invariants:
 * - Statement i runs against the committed state plus the changes of the
 *   group's statements before it (through a WriteOverlay passed as the
 *   staged rows), so constraints hold as if they had run one by one.
 * - A statement that fails (a constraint error) is rejected at once and adds
 *   nothing; the others still commit.
 * - Every statement is acknowledged only after the group's commit completed;
 *   if the commit fails (quota, storage error), every statement of the group
 *   fails with that error and nothing of it is applied.
 */
import type { StagedRows, Tuple } from '../exec/context';
import type { WriteOutcome } from '../plan/write';
import type { RowChange } from '../core/schema';

export interface GroupMember {
  /** Computes the statement's changes; `staged` holds the earlier members' changes (undefined: none). A promise when it must read (a UNIQUE check of cold rows). */
  run(staged: StagedRows | undefined): WriteOutcome | Promise<WriteOutcome>;
  resolve(outcome: WriteOutcome): void;
  reject(error: unknown): void;
}

/** The changes of a group's earlier statements, as the staged rows later ones see. */
export class WriteOverlay implements StagedRows {
  /** table id → partition user → pk hash → newest version (null: removed). Lives for one group. */
  private readonly tables = new Map<number, Map<string, Map<string, Tuple | null>>>();

  partition(tableId: number, user: string): ReadonlyMap<string, Tuple | null> | undefined {
    return this.tables.get(tableId)?.get(user);
  }

  add(changes: readonly RowChange[]): void {
    for (const c of changes) {
      let parts = this.tables.get(c.table.id);
      if (!parts) this.tables.set(c.table.id, (parts = new Map()));
      let p = parts.get(c.user);
      if (!p) parts.set(c.user, (p = new Map()));
      p.delete(c.pkHash); // scan order = write order, as the hot tier after commit
      p.set(c.pkHash, c.row);
    }
  }

  get isEmpty(): boolean {
    return this.tables.size === 0;
  }
}

/** Statements waiting for one commit. `members` is bounded by the engine (maxGroupCommitStatements). */
export class WriteGroup {
  readonly members: GroupMember[] = [];
}

/**
 * Runs a group's statements in order and commits their changes together.
 * Call under the write lock. Resolves when every member has been settled.
 */
export async function runGroup(group: WriteGroup, commit: (changes: readonly RowChange[]) => Promise<void>, vet?: (changes: readonly RowChange[]) => Promise<void> | undefined): Promise<void> {
  const { members } = group;
  const overlay = new WriteOverlay();
  const done: { member: GroupMember; outcome: WriteOutcome }[] = [];
  let changes: RowChange[] = [];
  for (let i = 0; i < members.length; i++) {
    const member = members[i];
    let outcome: WriteOutcome;
    try {
      const ran = member.run(overlay.isEmpty ? undefined : overlay);
      outcome = ran instanceof Promise ? await ran : ran;
      // What only this statement's changes can fail on fails it alone, before the group's commit.
      const vetted = vet?.(outcome.changes);
      if (vetted) await vetted;
    } catch (e) {
      member.reject(e);
      continue;
    }
    if (i < members.length - 1) overlay.add(outcome.changes);
    // The common group of one commits the statement's own array; a larger group gets a new one.
    if (done.length === 0) changes = outcome.changes;
    else {
      if (done.length === 1) changes = changes.slice();
      for (const c of outcome.changes) changes.push(c);
    }
    done.push({ member, outcome });
  }
  if (done.length === 0) return;
  try {
    await commit(changes);
  } catch (e) {
    for (const d of done) d.member.reject(e);
    return;
  }
  for (const d of done) d.member.resolve(d.outcome);
}

/** What forming groups needs: the write lock and the one commit path. */
export interface GroupCommitTarget {
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
  commit(unit: { rows: readonly RowChange[] }): Promise<void>;
  /** Checks one statement's changes before they join the group's commit (FILE values); throws to fail that statement alone. */
  vet?(changes: readonly RowChange[]): Promise<void> | undefined;
}

/** Forms write groups: statements join the group forming until it takes the write lock. */
export class GroupCommitter {
  /** The group write statements join until it takes the write lock; its members are bounded by maxStatements. */
  private forming: WriteGroup | undefined;
  groupCommits = 0;
  groupedStatements = 0;

  constructor(
    private readonly target: GroupCommitTarget,
    readonly maxStatements: number,
  ) {}

  /**
   * Joins the forming group: `run` is called under the write lock with the
   * changes of the group's earlier statements, and the promise settles
   * after the group's one storage commit.
   */
  join(run: GroupMember['run']): Promise<WriteOutcome> {
    let group = this.forming;
    if (!group || group.members.length >= this.maxStatements) {
      const fresh = (group = new WriteGroup());
      this.forming = fresh;
      this.target.exclusive(() => {
        if (this.forming === fresh) this.forming = undefined; // later arrivals form the next group
        this.groupCommits++;
        this.groupedStatements += fresh.members.length;
        return runGroup(fresh, (changes) => this.target.commit({ rows: changes }), this.target.vet && ((changes) => this.target.vet!(changes)));
      }).catch((e: unknown) => {
        // The group never ran (runGroup settles every member itself): the write lock refused it
        // (a timed-out commit whose outcome is still unknown, execute/commit.ts). Every member fails with that.
        if (this.forming === fresh) this.forming = undefined;
        for (const m of fresh.members) m.reject(e);
      });
    }
    const joining = group;
    return new Promise((resolve, reject) => joining.members.push({ run, resolve, reject }));
  }
}
