// What guest/build.sh builds for the guest besides the stub, for the layers that map or write it: the
// vDSO image (src/loader/vdso.ts) and the layout of its [vvar] page (src/kernel/timekeeper.ts).
import { fileURLToPath } from 'node:url';

const guestBuild = fileURLToPath(new URL('../../../build/guest/', import.meta.url));

export const vdsoImagePath = `${guestBuild}vdso.so`;
export const vvarLayoutPath = `${guestBuild}vvar.json`;
