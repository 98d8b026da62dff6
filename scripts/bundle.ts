// Bundles the tsvisor command and the Gofer (from tsc's output in dist/src) into dist/bundle with
// esbuild: loading one file per entry and a few shared chunks is much faster than resolving and
// loading some hundred ES modules one by one, most of a run's start. Then saves the answers to
// `--version` and `--help` beside the command (usage.json, see src/cli/bin.ts).
//   dist/bundle/cli/tsvisor.cjs          the command (package.json's bin): CommonJS, it starts fastest
//   dist/bundle/cli/main.js              the command line (yargs), the ES modules from here on
//   dist/bundle/sandbox/early-gofer.js   the Gofer started before the command line is read
//   dist/bundle/gofer/server.js          the Gofer process (src/gofer/spawn.ts finds it at ../gofer/
//                                        from any file of the bundle)
//   dist/bundle/chunks/*.js              modules the entries share, and the sandbox, loaded by `run` only
// Every file sits two folders below the checkout, as the modules of dist/src do: the addon and the
// guest stub are found relative to the module that loads them.
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { SAVED_USAGE } from '../src/cli/saved-usage.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outdir = `${root}dist/bundle`;
const command = `${outdir}/cli/tsvisor.cjs`;
const usageFile = `${outdir}/cli/usage.json`;

/**
 * yargs lays out the help of the command it runs at every parse (to have it ready), and measures every
 * piece of text with string-width, which splits it into grapheme clusters (Intl.Segmenter) and tests
 * each against Unicode property classes: some 40 ms of every `tsvisor run`. Printable ASCII is one
 * column per character, so the bundle's string-width answers that at once and hands anything else
 * (escapes, other scripts, emoji) to the real one, of whichever version its importer asked for.
 */
const asciiStringWidth: Plugin = {
  name: 'ascii-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'real' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'ascii-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'ascii-string-width' }, (args) => ({
      resolveDir: root,
      contents: `import realStringWidth from ${JSON.stringify(args.path)};
        const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
        export default function stringWidth(text, options) {
          return typeof text === 'string' && PRINTABLE_ASCII.test(text) ? text.length : realStringWidth(text, options);
        }`,
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    'cli/main': `${root}dist/src/cli/main.js`,
    'sandbox/early-gofer': `${root}dist/src/sandbox/early-gofer.js`,
    'gofer/server': `${root}dist/src/gofer/server.js`,
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled CommonJS packages (yargs' helpers, winston's) call require for Node's own modules.
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
  // Whitespace and syntax only: stack traces keep their names.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  plugins: [asciiStringWidth],
});
// The entry: its two dynamic imports stay imports of the ES entries beside it.
await build({
  entryPoints: [`${root}dist/src/cli/bin.js`],
  outfile: command,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['./main.js', '../sandbox/early-gofer.js'],
  define: { 'import.meta.url': 'entryUrl' },
  banner: { js: "const entryUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
chmodSync(command, 0o755);

// The saved answers come from the bundle itself before usage.json exists, on a pipe (no terminal width).
const env = { ...process.env };
delete env.YARGS_DISABLE_WRAP;
const usage: Record<string, string> = {};
for (const key of SAVED_USAGE) {
  const r = spawnSync(process.execPath, [command, ...key.split(' ')], { encoding: 'utf8', env });
  if (r.status !== 0 || r.stderr !== '') throw new Error(`tsvisor ${key}: status ${r.status}: ${r.stderr}`);
  usage[key] = r.stdout;
}
writeFileSync(usageFile, `${JSON.stringify(usage, null, 1)}\n`);
