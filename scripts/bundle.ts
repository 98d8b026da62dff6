// Bundles the tsvisor command (from tsc's output in dist/src) into dist/bundle with
// esbuild: loading one file is much faster than resolving and loading some hundred ES modules one by
// one, most of a run's start. Then saves the answers to `--version` and `--help` beside the command
// (usage.json, see src/cli/bin.ts).
//   dist/bundle/cli/tsvisor.cjs          the command (package.json's bin): usage.json's answers, or
//                                        command.cjs compiled with V8's code cache (src/cli/code-cache.ts)
//   dist/bundle/cli/command.cjs          the rest of the command, one CommonJS file: the Gofer started
//                                        early, the command line (yargs), the sandbox
// CommonJS, as its require of Node.js's own modules costs nothing (they are loaded already, where an
// ES module's import of them costs tens of milliseconds), and as V8's code cache can be handed to a
// script, not to an ES module, in Node.js 20. Every file sits two folders below the checkout, as the
// modules of dist/src do: the addon and the guest stub are found relative to the module that loads them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { SAVED_USAGE } from '../src/cli/saved-usage.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outdir = `${root}dist/bundle`;
const command = `${outdir}/cli/tsvisor.cjs`;
const commandBundle = `${outdir}/cli/command.cjs`;
const usageFile = `${outdir}/cli/usage.json`;

/**
 * yargs lays out the help of the command it runs at every parse (to have it ready), and measures every
 * piece of text with string-width, which splits it into grapheme clusters (Intl.Segmenter) and tests
 * each against Unicode property classes: some 40 ms of every `tsvisor run`. Printable ASCII is one
 * column per character, so the bundle's string-width answers that at once and hands anything else
 * (escapes, other scripts, emoji) to the real one, of whichever version its importer asked for,
 * loaded only then: it makes an Intl.Segmenter as it loads, which costs ~10 ms (ICU's data).
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
      contents: `const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
        let realStringWidth = null;
        export default function stringWidth(text, options) {
          if (typeof text === 'string' && PRINTABLE_ASCII.test(text)) return text.length;
          realStringWidth ??= require(${JSON.stringify(args.path)}).default;
          return realStringWidth(text, options);
        }`,
    }));
  },
};

/**
 * yargs also lays out the whole help of the command it runs, just before running it, and keeps the
 * text (usage.js's cacheHelpMessage) for a later showHelp() or getHelp() or for its own failure
 * message: some 10 ms of every `tsvisor run`. main.ts calls neither, and its .fail() handler prints
 * one line without the help, so nothing ever reads that text: the bundle's yargs does not make it.
 * The build stops if yargs no longer has the code this replaces.
 */
const noCachedHelp: Plugin = {
  name: 'yargs-no-cached-help',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]usage\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const cache = 'cachedHelpMessage = this.help();';
      if (source.split(cache).length !== 2) throw new Error(`${args.path}: no single \`${cache}\` to leave out`);
      return { contents: source.replace(cache, ''), loader: 'js' };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' } as const;
// Whitespace and syntax only: stack traces keep their names.
const minify = { minifyWhitespace: true, minifySyntax: true } as const;
// import.meta.url is the bundle file's own URL: what the modules found beside them is found beside it.
const cjsMetaUrl = {
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: "const bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
} as const;
await build({
  ...common, ...minify, ...cjsMetaUrl,
  entryPoints: [`${root}dist/src/cli/command.js`],
  outfile: commandBundle,
  format: 'cjs',
  plugins: [asciiStringWidth, noCachedHelp],
});
// Names the command's code cache: V8 itself checks only the length of the source it was made from.
const commandHash = createHash('sha256').update(readFileSync(commandBundle)).digest('hex').slice(0, 16);
// The entry: small, so that --version and --help cost no more than Node.js's start.
await build({
  ...common, ...cjsMetaUrl,
  entryPoints: [`${root}dist/src/cli/bin.js`],
  outfile: command,
  format: 'cjs',
  external: ['./command.js'],
  define: { ...cjsMetaUrl.define, COMMAND_BUNDLE_HASH: JSON.stringify(commandHash) },
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
