// Signals that end a program or check what it hands back, compared with the host kernel
// (test/helpers/signal-cases.ts): default actions, rt_sigreturn's checks of a frame, SIGPIPE.
import { compareWithNative } from './helpers/signal-cases.js';

compareWithNative([
  { name: 'sig_default', args: ['abort'], status: 134 },
  { name: 'sig_default', args: ['abort-handler'], status: 134 },
  { name: 'sig_default', args: ['term'], status: 143 },
  { name: 'sig_default', args: ['quit'], status: 131 },
  { name: 'sig_default', args: ['ignored'], status: 3 },
  { name: 'sig_default', args: ['handled'], status: 3 },
  { name: 'sig_default', args: ['alarm'], status: 142 },
  // rt_sigreturn refuses what a handler may not hand back.
  ...['cs', 'ss', 'rip', 'mxcsr', 'xcomp', 'xstate-bv', 'fpstate'].map((what) => ({ name: 'sig_badframe', args: [what], status: 139 })),
  { name: 'sig_badframe', args: ['caught'], status: 0 },
  { name: 'sig_badframe', args: ['legacy'], status: 0 },
  { name: 'sig_badframe', args: ['misaligned'], status: 0 },
  { name: 'sig_badframe', args: ['flags'], status: 133 },
  { name: 'sig_badframe', args: ['none'], status: 0 },
  { name: 'sig_pipe', args: ['default'], status: 141 },
  { name: 'sig_pipe', args: ['handler'], status: 0 },
  { name: 'sig_pipe', args: ['ignore'], status: 0 },
  { name: 'sig_pipe', args: ['blocked'], status: 0 },
]);
