-- The demo's tables. demo/src/db-types.ts is generated from this file:
--   npm run types:demo
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
