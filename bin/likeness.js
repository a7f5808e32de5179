#!/usr/bin/env node
// The `likeness` command: registers tsx so Node can load the TypeScript sources, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/likeness.ts');
process.exitCode = await main(process.argv.slice(2));
