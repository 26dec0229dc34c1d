/**
 * The demo's tables (demo/schema.sql), created at start by a 'dba' session.
 * IF NOT EXISTS makes this safe to run on every page load. Their row types,
 * demo/src/db-types.ts, are generated from the same file (`npm run types:demo`).
 */
import SCHEMA_SQL from '../schema.sql?raw';

export { SCHEMA_SQL };

/** The users a visitor can switch between; all have role 'user'. */
export const DEMO_USERS = ['alice', 'bob', 'carol'] as const;
export type DemoUser = (typeof DEMO_USERS)[number];

export const ADMIN_USER = 'demo_admin';
