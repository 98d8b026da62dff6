// The command beyond --version and --help: what bin.ts loads (bundled, dist/bundle/cli/command.cjs,
// through V8's code cache: code-cache.ts). A run needs the Gofer, so it is started first, before the
// command line's modules (yargs, the sandbox) are evaluated: its Node.js then starts while the Sentry's
// modules load, instead of the Sentry waiting for its greeting later.
import { startGoferEarly } from '../sandbox/early-gofer.js';

if (process.argv[2] === 'run') startGoferEarly();
// Imported, not named at the top: in the bundle, main.ts and what it imports are evaluated only now.
void import('./main.js');
