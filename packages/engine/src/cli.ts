/**
 * The `kalamlite` command, bin of @kalamlite/engine (see api/cli.ts):
 *
 *   npx kalamlite types schema.sql > db-types.ts
 */
import { main } from './api/cli';

process.exitCode = await main(process.argv.slice(2));
