// The argument lists whose output the build saves beside the bundled command (usage.json) and bin.ts
// answers from it, joined with spaces: the file's keys.
export const SAVED_USAGE = ['--version', '--help', 'run --help', 'check --help', 'trace --help'];
