/**
 * Generators for `_seq`, SNOWFLAKE_ID(), UUID_V7() and ULID().
 * `_seq` is strictly increasing per database: (ms since 2024-01-01) << 22
 * | worker << 12 | sequence, and never goes back even if the clock does.
 */
const SEQ_EPOCH = 1704067200000n;

/** The wall-clock time (ms since the Unix epoch) a `_seq` was taken at. */
export function seqMillis(seq: bigint): number {
  return Number((seq >> 22n) + SEQ_EPOCH);
}

/** The smallest `_seq` taken at or after `ms` (any worker). */
export const seqAtMillis = (ms: number): bigint => BigInt(Math.max(0, Math.floor(ms) - Number(SEQ_EPOCH))) << 22n;

export class SeqGenerator {
  private last = 0n;
  constructor(private readonly worker: number = Math.floor(Math.random() * 1024), private readonly epoch = SEQ_EPOCH) {}

  /** Make sure every later value is greater than `seen` (after reopening). */
  observe(seen: bigint): void {
    if (seen > this.last) this.last = seen;
  }

  next(): bigint {
    const ms = BigInt(Date.now()) - this.epoch;
    let candidate = (ms << 22n) | (BigInt(this.worker) << 12n);
    if (candidate <= this.last) candidate = this.last + 1n;
    this.last = candidate;
    return candidate;
  }
}

const random = (n: number): Uint8Array => {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b;
};

export function uuidV7(now = Date.now()): string {
  const b = random(16);
  let ms = now;
  for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastUlidMs = -1;
let lastUlidRandom: number[] = [];

/** 26-character Crockford base32 ULID, monotonic within one millisecond. */
export function ulid(now = Date.now()): string {
  let rand: number[];
  if (now === lastUlidMs) {
    rand = lastUlidRandom.slice();
    for (let i = rand.length - 1; i >= 0; i--) { // increment base32 digits
      if (rand[i] < 31) { rand[i]++; break; }
      rand[i] = 0;
    }
  } else {
    rand = Array.from(random(16), (x) => x & 31);
  }
  lastUlidMs = now;
  lastUlidRandom = rand;
  let t = '';
  let ms = now;
  for (let i = 0; i < 10; i++) { t = CROCKFORD[ms % 32] + t; ms = Math.floor(ms / 32); }
  return t + rand.map((x) => CROCKFORD[x]).join('');
}
