#!/usr/bin/env node
// Gets a fresh checkout ready to run: installs dependencies when they are
// missing or stale and, with --browser, makes sure a Chromium is available.
// Node builtins only: this runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wantsBrowser = process.argv.includes('--browser');
const require = createRequire(join(root, 'package.json'));

/** Packages the scripts need; if one does not resolve, the install is broken. */
const KEY_PACKAGES = ['vite', 'vitest', 'typescript', 'playwright-core', 'react', 'react-dom', 'comlink', 'idb', 'node-sql-parser', 'apache-arrow', 'dependency-cruiser', '@swc/core'];

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function step(message) {
  console.log(`[setup] ${message}`);
}

function fail(message) {
  console.error(`[setup] error: ${message}`);
  process.exit(1);
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with status ${result.status}`);
}

function mtime(path) {
  return statSync(path).mtimeMs;
}

/** Why dependencies must be installed, or null when they are up to date. */
function installReason() {
  const lockfile = join(root, 'package-lock.json');
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) return 'node_modules is missing';
  // npm rewrites node_modules/.package-lock.json on every install, so its
  // age is the age of the install.
  const installed = join(modules, '.package-lock.json');
  const installedAt = mtime(existsSync(installed) ? installed : modules);
  if (existsSync(lockfile) && mtime(lockfile) > installedAt) return 'package-lock.json is newer than node_modules';
  const missing = KEY_PACKAGES.find((name) => !resolvesPackage(name));
  return missing === undefined ? null : `${missing} does not resolve`;
}

/**
 * Looks for the package's directory along Node's lookup paths rather than
 * resolving an entry point: some packages' `exports` hide `package.json`
 * or offer no `require` condition.
 */
function resolvesPackage(name) {
  const lookupPaths = require.resolve.paths(name) ?? [];
  return lookupPaths.some((dir) => existsSync(join(dir, name, 'package.json')));
}

function ensureDependencies() {
  const reason = installReason();
  if (reason === null) {
    step('dependencies: up to date');
    return;
  }
  const hasLockfile = existsSync(join(root, 'package-lock.json'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  step(`dependencies: ${reason}; running npm ${hasLockfile ? 'ci' : 'install'}`);
  run(npm, [hasLockfile ? 'ci' : 'install']);
  step('dependencies: installed');
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) fail(`CHROMIUM_PATH is set to ${fromEnv}, which is not an executable file`);
    return fromEnv;
  }
  return CHROMIUM_CANDIDATES.find(isExecutable) ?? null;
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function ensureChromium() {
  const found = findChromium();
  if (found) {
    step(`browser: ${found}`);
    return;
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && onPath('apt-get')) {
    step('browser: no Chromium found; installing Debian chromium with apt-get');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update'], env);
    run('apt-get', ['install', '-y', 'chromium'], env);
    const installed = findChromium();
    if (!installed) fail('apt-get installed chromium, but no Chromium executable was found afterwards');
    step(`browser: ${installed}`);
    return;
  }
  fail(
    'no Chromium found (looked at $CHROMIUM_PATH, ' + CHROMIUM_CANDIDATES.join(', ') + '). ' +
      'Install one (Debian/Ubuntu: `sudo apt-get install -y chromium`) ' +
      'or point CHROMIUM_PATH at a Chromium or Chrome executable.',
  );
}

ensureDependencies();
if (wantsBrowser) ensureChromium();
