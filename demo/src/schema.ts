/**
 * The demo's tables, created at start by a 'dba' session. IF NOT EXISTS
 * makes this safe to run on every page load.
 */
export const SCHEMA_SQL = `
CREATE NAMESPACE IF NOT EXISTS demo;
CREATE USER TABLE IF NOT EXISTS demo.todos (
  id TEXT PRIMARY KEY DEFAULT ULID(),
  title TEXT NOT NULL,
  done BOOLEAN DEFAULT false,
  created_at TIMESTAMP DEFAULT NOW()
);
CREATE SHARED TABLE IF NOT EXISTS demo.notes (
  id TEXT PRIMARY KEY DEFAULT ULID(),
  author TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TIMESTAMP DEFAULT NOW()
) WITH (ACCESS_LEVEL = 'public');
`;

/** The users a visitor can switch between; all have role 'user'. */
export const DEMO_USERS = ['alice', 'bob', 'carol'] as const;
export type DemoUser = (typeof DEMO_USERS)[number];

export const ADMIN_USER = 'demo_admin';
