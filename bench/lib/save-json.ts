/**
 * Every benchmark saves its figures as JSON: to --json FILE when given, else to .bench/<name>.json
 * (gitignored), so a run is never lost to the scrollback.
 */
import fs from 'node:fs';
import path from 'node:path';

export function saveBenchJson(name: string, data: unknown, file?: string): string {
  const out = path.resolve(file ?? path.join('.bench', `${name}.json`));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(data, null, 2) + '\n');
  console.error(`saved ${path.relative(process.cwd(), out)}`);
  return out;
}
