/**
 * Topic statements (KalamDB's change data capture, reference §1.1):
 *
 *   CREATE TOPIC [IF NOT EXISTS] t [PARTITIONS n] [WITH (retention_seconds = s, retention_max_bytes = b)]
 *   DROP TOPIC [IF EXISTS] t
 *   CLEAR TOPIC t
 *   ALTER TOPIC t ADD SOURCE ns.table ON INSERT|UPDATE|DELETE [WHERE …] [WITH (payload = 'key'|'full'|'diff')]
 *   ALTER TOPIC t DROP SOURCE ns.table [ON INSERT|UPDATE|DELETE]
 *   ALTER TOPIC t SET (retention_seconds = s, retention_max_bytes = b)
 *   CONSUME FROM t [GROUP 'g'] [FROM LATEST|EARLIEST|offset] [LIMIT n] [WAIT ms]
 *   ACK t GROUP 'g' [PARTITION p] UPTO OFFSET o
 *   ACK t GROUP 'g' [PARTITION p] UPTO LATEST
 *
 * `WAIT ms` (kalamlite's, for long polling: at most MAX_WAIT_MS) waits for
 * messages when there are none yet; `UPTO LATEST` acks every message
 * written so far (of one partition, or of all without PARTITION).
 *
 * Numbers may be written inline or as `$n` parameters, group names as
 * string literals or `$n`. Only the topic executor (execute/topics.ts,
 * loaded on first use) imports this file: sql/parse.ts hands it the text.
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import type { TableName } from './ast';
import { Cursor } from './cursor';
import type { Token } from './lexer';

export type TopicOp = 'insert' | 'update' | 'delete';
export type PayloadMode = 'key' | 'full' | 'diff';

export interface TopicRetention {
  /** null: clear the setting (ALTER TOPIC … SET); undefined: not given. */
  retentionSeconds?: number | null;
  retentionMaxBytes?: number | null;
}

export type TopicStmt =
  | ({ kind: 'createTopic'; name: string; partitions: number; ifNotExists: boolean } & TopicRetention)
  | { kind: 'dropTopic'; name: string; ifExists: boolean }
  | { kind: 'clearTopic'; name: string }
  /** `where` is the filter's SQL text (null: every row); `whereAt` its offset in the statement. */
  | { kind: 'addSource'; topic: string; table: TableName; op: TopicOp; where: string | null; whereAt: number; payload: PayloadMode }
  | { kind: 'dropSource'; topic: string; table: TableName; op?: TopicOp }
  | ({ kind: 'alterRetention'; topic: string } & TopicRetention)
  /** `from`: undefined = after the group's last ack (EARLIEST without a group or ack). */
  | { kind: 'consume'; topic: string; group?: string; from?: 'latest' | 'earliest' | number; limit?: number; waitMs?: number }
  /** `partition` undefined: partition 0 for an offset, every partition for LATEST. */
  | { kind: 'ack'; topic: string; group: string; partition?: number; offset: number | 'latest' };

/** The longest CONSUME … WAIT. */
export const MAX_WAIT_MS = 60_000;

/** Most partitions a topic may have. */
export const MAX_PARTITIONS = 256;

const OPS: Record<string, TopicOp> = { INSERT: 'insert', UPDATE: 'update', DELETE: 'delete' };
const PAYLOADS = new Set<string>(['key', 'full', 'diff']);

export function parseTopicStatement(sql: string, tokens: Token[], params: readonly Value[]): TopicStmt {
  const c = new Cursor(tokens, sql.length);
  const p = new TopicParser(c, sql, params);
  const stmt = p.statement();
  c.end();
  return stmt;
}

class TopicParser {
  constructor(
    private readonly c: Cursor,
    private readonly sql: string,
    private readonly params: readonly Value[],
  ) {}

  statement(): TopicStmt {
    const c = this.c;
    if (c.acceptWords('CREATE', 'TOPIC')) {
      const ifNotExists = c.acceptWords('IF', 'NOT', 'EXISTS');
      const name = this.topicName();
      const partitions = c.acceptWord('PARTITIONS') ? this.integer('the number of partitions', 1, MAX_PARTITIONS) : 1;
      const retention = c.acceptWord('WITH') ? this.retention() : {};
      return { kind: 'createTopic', name, partitions, ifNotExists, ...retention };
    }
    if (c.acceptWords('DROP', 'TOPIC')) {
      const ifExists = c.acceptWords('IF', 'EXISTS');
      return { kind: 'dropTopic', name: this.topicName(), ifExists };
    }
    if (c.acceptWords('CLEAR', 'TOPIC')) return { kind: 'clearTopic', name: this.topicName() };
    if (c.acceptWords('ALTER', 'TOPIC')) return this.alter();
    if (c.acceptWord('CONSUME')) return this.consume();
    if (c.acceptWord('ACK')) return this.ack();
    return c.fail('expected a topic statement (CREATE/DROP/CLEAR/ALTER TOPIC, CONSUME, ACK)');
  }

  /** A topic name: an identifier, or dotted identifiers (`app.events`). */
  private topicName(): string {
    let name = this.c.identifier('a topic name');
    while (this.c.acceptPunct('.')) name += `.${this.c.identifier('a topic name')}`;
    if (name.length > 64) throw new KalamError('INVALID_NAME', `Topic name '${name.slice(0, 20)}…' is longer than 64 characters: choose a shorter name`);
    return name;
  }

  private alter(): TopicStmt {
    const c = this.c;
    const topic = this.topicName();
    if (c.acceptWords('ADD', 'SOURCE')) {
      const table = c.tableName();
      c.expectWord('ON');
      const op = this.op();
      let where: string | null = null;
      let whereAt = 0;
      if (c.isWord('WHERE')) {
        const whereTok = c.next();
        const start = c.position();
        // The filter runs to a top-level `WITH (` or the end of the statement.
        let depth = 0;
        while (!c.atEnd()) {
          if (depth === 0 && c.isWord('WITH') && this.c.peek(1)?.text === '(') break;
          const t = c.next();
          if (t.type === 'punct' && t.text === '(') depth++;
          if (t.type === 'punct' && t.text === ')') depth--;
        }
        const end = c.atEnd() ? this.sql.length : c.position();
        where = this.sql.slice(start, end).trim();
        whereAt = start;
        if (where === '') throw new KalamError('PARSE_ERROR', 'ADD SOURCE … WHERE needs a condition on the table\'s columns', whereTok.end);
      }
      let payload: PayloadMode = 'full';
      if (c.acceptWord('WITH')) {
        this.options((key) => {
          if (key !== 'payload') throw new KalamError('INVALID_OPTION', `Unknown source option '${key}': the only option is payload = 'key' | 'full' | 'diff'`);
          const v = this.text('the payload mode').toLowerCase();
          if (!PAYLOADS.has(v)) throw new KalamError('INVALID_OPTION', `Unknown payload mode '${v}': use 'key' (the primary key), 'full' (the whole row) or 'diff' (the changed columns)`);
          payload = v as PayloadMode;
        });
      }
      return { kind: 'addSource', topic, table, op, where, whereAt, payload };
    }
    if (c.acceptWords('DROP', 'SOURCE')) {
      const table = c.tableName();
      const op = c.acceptWord('ON') ? this.op() : undefined;
      return op ? { kind: 'dropSource', topic, table, op } : { kind: 'dropSource', topic, table };
    }
    if (c.acceptWord('SET')) return { kind: 'alterRetention', topic, ...this.retention(true) };
    return c.fail('expected ADD SOURCE, DROP SOURCE or SET (…) after ALTER TOPIC <name>');
  }

  private op(): TopicOp {
    const t = this.c.peek();
    const op = t?.type === 'word' ? OPS[t.text.toUpperCase()] : undefined;
    if (!op) this.c.fail('expected INSERT, UPDATE or DELETE');
    this.c.next();
    return op;
  }

  private consume(): TopicStmt {
    const c = this.c;
    c.expectWord('FROM');
    const topic = this.topicName();
    const stmt: Extract<TopicStmt, { kind: 'consume' }> = { kind: 'consume', topic };
    if (c.acceptWord('GROUP')) stmt.group = this.groupName();
    if (c.acceptWord('FROM')) {
      if (c.acceptWord('LATEST')) stmt.from = 'latest';
      else if (c.acceptWord('EARLIEST')) stmt.from = 'earliest';
      else stmt.from = this.integer('an offset, LATEST or EARLIEST', 0, Number.MAX_SAFE_INTEGER);
    }
    if (c.acceptWord('LIMIT')) stmt.limit = this.integer('the LIMIT', 1, Number.MAX_SAFE_INTEGER);
    if (c.acceptWord('WAIT')) stmt.waitMs = this.integer('the WAIT in milliseconds', 0, MAX_WAIT_MS);
    return stmt;
  }

  private ack(): TopicStmt {
    const c = this.c;
    const topic = this.topicName();
    c.expectWord('GROUP');
    const group = this.groupName();
    const partition = c.acceptWord('PARTITION') ? this.integer('a partition number', 0, MAX_PARTITIONS - 1) : undefined;
    if (c.acceptWords('UPTO', 'LATEST')) return { kind: 'ack', topic, group, partition, offset: 'latest' };
    if (!c.acceptWords('UPTO', 'OFFSET')) c.fail('expected UPTO OFFSET <offset> or UPTO LATEST');
    const offset = this.integer('an offset', 0, Number.MAX_SAFE_INTEGER);
    return { kind: 'ack', topic, group, partition, offset };
  }

  private groupName(): string {
    const g = this.text('a consumer group name in single quotes');
    if (g.length === 0 || g.length > 128) throw new KalamError('INVALID_NAME', 'A consumer group name has 1 to 128 characters');
    return g;
  }

  /** `(key = value, …)`; `each` reads the value after `=`. */
  private options(each: (key: string) => void): void {
    const c = this.c;
    c.expectPunct('(');
    do {
      const key = c.identifier('an option name');
      c.expectPunct('=');
      each(key);
    } while (c.acceptPunct(','));
    c.expectPunct(')');
  }

  private retention(allowNull = false): TopicRetention {
    const out: TopicRetention = {};
    this.options((key) => {
      const value = allowNull && this.c.acceptWord('NULL') ? null : undefined;
      if (key === 'retention_seconds') out.retentionSeconds = value === null ? null : this.integer('retention_seconds', 1, 10 * 365 * 86_400);
      else if (key === 'retention_max_bytes') out.retentionMaxBytes = value === null ? null : this.integer('retention_max_bytes', 1, Number.MAX_SAFE_INTEGER);
      else throw new KalamError('INVALID_OPTION', `Unknown topic option '${key}': use retention_seconds or retention_max_bytes`);
    });
    return out;
  }

  /** A whole number in [min, max], inline or as a `$n` parameter. */
  private integer(what: string, min: number, max: number): number {
    const t = this.c.peek();
    let v: unknown;
    if (t?.type === 'number') v = Number(t.text);
    else if (t?.type === 'param') v = this.param(t);
    else this.c.fail(`expected ${what}`);
    this.c.next();
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new KalamError('INVALID_PARAMETER', `${what} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got ${String(v)}`, t!.start);
    }
    return n;
  }

  private text(what: string): string {
    const t = this.c.peek();
    let v: unknown;
    if (t?.type === 'string') v = t.text;
    else if (t?.type === 'param') v = this.param(t);
    else this.c.fail(`expected ${what}`);
    this.c.next();
    if (typeof v !== 'string') throw new KalamError('INVALID_PARAMETER', `${what} must be text`, t!.start);
    return v;
  }

  private param(t: Token): Value {
    const i = t.text.startsWith('$') ? Number(t.text.slice(1)) - 1 : -1;
    if (!(i >= 0 && i < this.params.length)) {
      throw new KalamError('INVALID_PARAMETER', `The statement uses ${t.text} but only ${this.params.length} parameter(s) were given: pass a value for each $n`, t.start);
    }
    return this.params[i];
  }
}

