// The layering of DESIGN.md, checked: dependencies point down only.
//   cli → sandbox → syscalls → kernel → {fs, net, loader} → mm → platform → {abi, log}
// gofer is a separate process: only sandbox (which starts it) and fs (which talks to it) may use it.
const layers = ['cli', 'sandbox', 'syscalls', 'kernel', 'fs|net|loader|gofer', 'mm', 'platform', 'abi|log'];

const rules = layers.flatMap((layer, i) => {
  const above = layers.slice(0, i);
  if (above.length === 0) return [];
  return [{
    name: `no-upward-from-${layer.replace(/\|/g, '-')}`,
    comment: `src/{${layer}} may not depend on layers above it`,
    severity: 'error',
    from: { path: `^src/(${layer})/` },
    to: { path: `^src/(${above.join('|')})/` },
  }];
});

module.exports = {
  forbidden: [
    ...rules,
    {
      name: 'addon-only-through-platform',
      comment: 'only src/platform loads the KVM addon',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/platform/' },
      to: { path: '^src/platform/addon\\.ts$' },
    },
    {
      // Type-only imports vanish at compile time: a Task naming its Kernel's type is no cycle.
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|build|node_modules)/' },
  },
};
