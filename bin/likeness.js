#!/usr/bin/env node
// The `likeness` command: runs the bundled CLI, dist/main/likeness.js (plain JavaScript, no TypeScript
// loader at run time). `npm ci` / `npm install` build it through the `prepare` script.
import fs from 'node:fs';

// Process-wide settings that must be in place before the engine's modules load belong here, above the import.

const bundle = new URL('../dist/main/likeness.js', import.meta.url);
if (!fs.existsSync(bundle)) {
  console.error(
    'likeness: the app is not built yet (dist/main/likeness.js is missing): run `npm run build`.',
  );
  process.exit(1);
}
await import(bundle.href);
