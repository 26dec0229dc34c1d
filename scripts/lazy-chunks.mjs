// The prebuilt worker's lazily loaded chunks (scripts/build.mjs).
//
// The engine loads the code most statements never need on first use
// (`lazyModule(label, () => import('./x'))`, core/lazy-module.ts). rolldown
// splits each such `import()` into a chunk; this plugin turns that ordinary
// code-split output into what an app's bundler can take whatever its worker
// format (Vite's default is iife, which cannot split code):
//
//   - worker.js, the entry, exports nothing: the bindings the chunks import
//     from it are put on one global object instead (WORKER_EXPORTS), and
//     each `import('./worker-x.js')` becomes `import(new URL(…,
//     import.meta.url).href)`, so a bundler copies the chunk as a file (an
//     asset) beside the worker rather than splitting code;
//   - each chunk, worker-<module>.js, takes what it imported from worker.js
//     from that global, and imports nothing else: a bundler renames the
//     files it copies, so no file may name another but worker.js by URL.
//
// A binding handed over this way is read once, when the chunk loads, so it
// must never be assigned again (a function, a class, a constant): checked
// here. A chunk that would import another chunk, or a module two chunks
// share but the entry does not hold, fails the build: load the other module
// through its loader instead (as migrate.ts loads ALTER TABLE's executor).
import { parseAst } from 'rolldown/parseAst';

/** Where worker.js puts what its chunks import (one worker per global scope, so one table). */
export const WORKER_EXPORTS = "globalThis[Symbol.for('kalamlite.worker-exports')]";
/** What a lazily loaded chunk of the worker is called: worker-<module>.js. */
export const LAZY_CHUNK_NAMES = 'worker-[name].js';
const LAZY_CHUNK = /^\.\/(worker-[\w.-]+\.js)$/;

/** Source text edits by offset, applied back to front. */
function applyEdits(code, edits) {
  let out = code;
  for (const { start, end, text } of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, start) + text + out.slice(end);
  return out;
}

/** Every node of an ESTree AST. */
function nodes(root) {
  const out = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const n of node) stack.push(n);
      continue;
    }
    if (typeof node.type === 'string') out.push(node);
    for (const key in node) {
      const v = node[key];
      if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
  return out;
}

/** The names assigned anywhere in the chunk (any scope: a false alarm only asks for a rename). */
function assignedNames(ast) {
  const names = new Set();
  for (const n of nodes(ast)) {
    if (n.type === 'AssignmentExpression' && n.left.type === 'Identifier') names.add(n.left.name);
    if (n.type === 'UpdateExpression' && n.argument.type === 'Identifier') names.add(n.argument.name);
  }
  return names;
}

/** Top-level declarations by name: 'function', 'class', 'const', 'let' or 'var'. */
function topLevelKinds(ast) {
  const kinds = new Map();
  for (const n of ast.body) {
    const decl = n.type === 'ExportNamedDeclaration' && n.declaration ? n.declaration : n;
    if (decl.type === 'FunctionDeclaration' && decl.id) kinds.set(decl.id.name, 'function');
    else if (decl.type === 'ClassDeclaration' && decl.id) kinds.set(decl.id.name, 'class');
    else if (decl.type === 'VariableDeclaration') {
      for (const d of decl.declarations) {
        for (const id of nodes(d.id)) if (id.type === 'Identifier') kinds.set(id.name, decl.kind);
      }
    }
  }
  return kinds;
}

/** worker.js: its exports become the global table, its chunk imports loads by URL. */
function renderEntry(code, fileName) {
  const ast = parseAst(code);
  const edits = [];
  const exported = [];
  for (const n of ast.body) {
    if (n.type === 'ExportNamedDeclaration' && n.source === null && n.declaration === null) {
      exported.push(...n.specifiers.map((s) => ({ local: s.local.name, name: s.exported.name ?? s.exported.value })));
      edits.push({ start: n.start, end: n.end, text: '' });
    } else if (n.type.startsWith('Export')) {
      throw new Error(`${fileName}: unexpected ${n.type} in the worker entry`);
    }
  }
  if (exported.length > 0) {
    const kinds = topLevelKinds(ast);
    const assigned = assignedNames(ast);
    for (const { local } of exported) {
      const kind = kinds.get(local);
      if (kind === undefined) throw new Error(`${fileName}: '${local}', which a lazily loaded chunk imports, is not declared at the top level`);
      if ((kind === 'let' || kind === 'var') && assigned.has(local)) {
        throw new Error(
          `${fileName}: a lazily loaded chunk imports '${local}', a variable assigned after it is declared; a chunk reads it once, as it loads ` +
            '(scripts/lazy-chunks.mjs), so it would miss later values: export a function that returns it instead',
        );
      }
    }
    edits.push({ start: code.length, end: code.length, text: `\n${WORKER_EXPORTS} = { ${exported.map(({ local, name }) => `${JSON.stringify(name)}: ${local}`).join(', ')} };\n` });
  }
  const chunks = [];
  for (const n of nodes(ast)) {
    if (n.type !== 'ImportExpression' || n.source.type !== 'Literal') continue;
    const match = LAZY_CHUNK.exec(n.source.value);
    if (!match) throw new Error(`${fileName}: import('${n.source.value}') is not a lazily loaded chunk (${LAZY_CHUNK_NAMES})`);
    chunks.push(match[1]);
    edits.push({ start: n.start, end: n.end, text: `import(/* @vite-ignore */ new URL(${JSON.stringify(n.source.value)}, import.meta.url).href)` });
  }
  return { code: applyEdits(code, edits), chunks };
}

/** A lazily loaded chunk: its imports from worker.js read from the global table. */
function renderLazyChunk(code, fileName, entryFile) {
  const ast = parseAst(code);
  const edits = [];
  for (const n of ast.body) {
    if (n.type !== 'ImportDeclaration') continue;
    if (n.source.value !== `./${entryFile}`) {
      throw new Error(`${fileName} imports '${n.source.value}': a lazily loaded chunk may import only from ${entryFile} (load another lazily loaded module through its loader)`);
    }
    const names = n.specifiers.map((s) => {
      if (s.type !== 'ImportSpecifier') throw new Error(`${fileName}: a ${s.type} from ${entryFile} (only named imports are handed over)`);
      return `${JSON.stringify(s.imported.name ?? s.imported.value)}: ${s.local.name}`;
    });
    edits.push({ start: n.start, end: n.end, text: names.length > 0 ? `const { ${names.join(', ')} } = ${WORKER_EXPORTS};` : '' });
  }
  for (const n of nodes(ast)) {
    if (n.type === 'ImportExpression') throw new Error(`${fileName}: a lazily loaded chunk may not load another (import() inside it); load it from the worker's modules`);
  }
  return applyEdits(code, edits);
}

/**
 * The plugin for the worker's rolldown build (code splitting on, chunks
 * named LAZY_CHUNK_NAMES). `lazyChunks.files` lists the chunks written,
 * once the build is done.
 */
export function lazyChunksPlugin(entryFile = 'worker.js') {
  const files = new Set();
  return {
    files,
    name: 'kalamlite:lazy-chunks',
    renderChunk(code, chunk) {
      if (chunk.isEntry) {
        if (chunk.fileName !== entryFile) throw new Error(`unexpected entry ${chunk.fileName}`);
        const rendered = renderEntry(code, chunk.fileName);
        for (const f of rendered.chunks) files.add(f);
        return { code: rendered.code };
      }
      if (!chunk.isDynamicEntry) {
        throw new Error(`${chunk.fileName} holds modules that two lazily loaded chunks share and worker.js does not (${chunk.moduleIds.join(', ')}): a chunk may import only from worker.js`);
      }
      return { code: renderLazyChunk(code, chunk.fileName, entryFile) };
    },
  };
}
