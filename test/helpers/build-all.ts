// Compiles every test/guest/*.c and the dynamic-linking set of test/guest/dyn/ (for
// scripts/test-svm.sh, which must build before it boots the emulated host, and for anyone who wants
// the binaries without running the tests).
import { readdir } from 'node:fs/promises';
import { dynamicGuestPrograms, guestProgram, guestSourceDir } from './guest-programs.js';

const names = (await readdir(guestSourceDir)).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
for (const path of await Promise.all(names.sort().map((n) => guestProgram(n)))) console.log(path);
console.log(await dynamicGuestPrograms());
