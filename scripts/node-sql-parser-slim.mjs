// node-sql-parser's PostgreSQL build, slimmed for the worker bundle.
//
// `node-sql-parser/build/postgresql.js` is one webpack bundle of four
// modules: 0 the PEG grammar (the parser itself), 1 the entry (re-exports
// 3), 2 `require("big-integer")`, 3 the `Parser` class with everything
// that turns an AST back into SQL (sqlify, ~63 kB minified). The engine only
// parses (`new Parser().astify(sql, { database: 'postgresql' })`), and the
// grammar uses big-integer for one comparison, `bigInt(digits) <
// bigInt(Number.MAX_SAFE_INTEGER)`, which reads both through valueOf().
//
// slimNodeSqlParser() rewrites the bundle so that module 1 exports a
// `Parser` whose astify() does exactly what the full one does for the
// engine's call (Parser.parse: trim, the grammar's parse with the default
// parse options, `.ast`), module 2 is a stand-in for big-integer with that
// valueOf(), and module 3 is gone: about 22 kB less gzipped in the worker.
// Every assumption about the bundle's shape is checked, so a new
// node-sql-parser that changes it fails the build here rather than
// producing a broken parser; scripts/node-sql-parser-slim.test.ts checks
// that the slim parser's ASTs and errors equal the full one's.

/** big-integer as the grammar uses it: `bigInt(x) < bigInt(y)` compares valueOf(); big-integer throws on text that is not an integer. */
export const BIG_INTEGER_STANDIN = `function(v){if(typeof v!=="number"&&!/^-?\\d+$/.test(v))throw new Error("Invalid integer: "+v);var n=typeof v==="number"?v:parseInt(v,10);return{valueOf:function(){return n}}}`;

/**
 * The slimmed bundle's source. `parseAst` is rolldown's (rolldown/parseAst).
 * Throws, saying what differs, when the bundle is not shaped as expected.
 */
export function slimNodeSqlParser(code, parseAst) {
  const fail = (what) => {
    throw new Error(`node-sql-parser/build/postgresql.js is not shaped as scripts/node-sql-parser-slim.mjs expects (${what}): update the slimming to the new node-sql-parser, or drop it from scripts/build.mjs.`);
  };
  const ast = parseAst(code);
  // !function(r,t){…copy exports…}(exports, function(runtime){…; return e(e.s=1)}([m0, m1, m2, m3]))
  const outer = ast.body[0]?.expression?.argument;
  const inner = outer?.type === 'CallExpression' ? outer.arguments[1] : undefined;
  const modules = inner?.type === 'CallExpression' ? inner.arguments[0] : undefined;
  if (modules?.type !== 'ArrayExpression' || modules.elements.length !== 4) fail('not a webpack bundle of four modules');
  if (!modules.elements.every((m) => m?.type === 'FunctionExpression')) fail('a module is not a function');
  const runtime = code.slice(inner.callee.start, inner.callee.end);
  if (!/\.s=1\)\}$/.test(runtime)) fail('the entry is not module 1');
  const text = (i) => code.slice(modules.elements[i].start, modules.elements[i].end);
  if (!/^function\((\w+),(\w+),(\w+)\)\{\1\.exports=\3\(3\)\}$/.test(text(1))) fail('module 1 does not re-export module 3');
  if (!/^function\((\w+),\w+\)\{\1\.exports=require\("big-integer"\)\}$/.test(text(2))) fail('module 2 is not big-integer');
  if (!text(3).includes('"Parser"')) fail('module 3 does not define Parser');
  // The grammar requires module 2 and nothing else.
  const grammar = modules.elements[0];
  const requireName = grammar.params[2]?.name;
  if (requireName === undefined) fail('the grammar module takes no require');
  const required = new Set();
  walk(grammar.body, (node) => {
    if (node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === requireName) {
      const [arg] = node.arguments;
      required.add(arg?.type === 'Literal' ? arg.value : '?');
    }
  });
  if (required.size !== 1 || !required.has(2)) fail(`the grammar requires modules ${[...required].join(', ')}, not only 2`);
  if (!/\.parse=/.test(code.slice(grammar.start, grammar.end)) && !/parse:/.test(code.slice(grammar.start, grammar.end))) fail('the grammar exports no parse');

  // Parser.prototype.astify(sql, opt) = this.parse(sql, opt).ast, where parse trims (unless opt.trimQuery === false)
  // and calls the grammar with opt.parseOptions or the default { includeLocations: false }.
  const slimParser =
    'function(r,t,e){var g=e(0);function Parser(){}' +
    'Parser.prototype.parse=function(s,o){o=o||{};var d=(o.database||"postgresql").toLowerCase();' +
    'if(d!=="postgresql")throw new Error(o.database+" is not supported currently");' +
    'return g.parse(o.trimQuery===false?s:s.trim(),o.parseOptions||{includeLocations:false})};' +
    'Parser.prototype.astify=function(s,o){var a=this.parse(s,o);return a&&a.ast};' +
    'r.exports={Parser:Parser}}';
  const parts = [
    [modules.elements[1], slimParser],
    [modules.elements[2], `function(r){r.exports=${BIG_INTEGER_STANDIN}}`],
    [modules.elements[3], 'function(){}'],
  ];
  let out = code;
  for (const [node, replacement] of parts.sort((a, b) => b[0].start - a[0].start)) {
    out = out.slice(0, node.start) + replacement + out.slice(node.end);
  }
  return out.replace(/\n\/\/# sourceMappingURL=.*$/, '\n');
}

function walk(node, visit) {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (typeof node.type === 'string') visit(node);
  for (const key in node) {
    if (key !== 'type' && key !== 'start' && key !== 'end') walk(node[key], visit);
  }
}

/** The rolldown plugin: node-sql-parser's PostgreSQL build, slimmed. */
export function slimNodeSqlParserPlugin(parseAst) {
  return {
    name: 'kalamlite:slim-node-sql-parser',
    load: {
      filter: { id: /node-sql-parser[\\/]build[\\/]postgresql\.js$/ },
      async handler(id) {
        const { readFile } = await import('node:fs/promises');
        return { code: slimNodeSqlParser(await readFile(id, 'utf8'), parseAst), moduleType: 'js' };
      },
    },
  };
}
