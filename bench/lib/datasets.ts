/**
 * The evaluation datasets in ../shared/datasets (read in place, never copied):
 * Holidays format (groundtruth.json → queries with positives) or class format (labels.json).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Dataset {
  dir: string;
  /** image paths relative to dir/images, in a stable order */
  files: string[];
  kind: 'holidays' | 'classes';
  /** holidays: query index → positive indices */
  queries?: { query: number; positives: number[] }[];
  /** classes: class label per file */
  labels?: string[];
}

export function defaultDatasetDir(name: string): string {
  return path.resolve(process.cwd(), '..', 'shared', 'datasets', name);
}

export function loadDataset(dir: string): Dataset {
  const imagesDir = path.join(dir, 'images');
  if (!fs.existsSync(imagesDir)) throw new Error(`${dir} has no images/ folder`);
  const gt = path.join(dir, 'groundtruth.json');
  const lb = path.join(dir, 'labels.json');
  if (fs.existsSync(gt)) {
    const files = fs
      .readdirSync(imagesDir)
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort();
    const idx = new Map(files.map((f, i) => [f, i]));
    const json = JSON.parse(fs.readFileSync(gt, 'utf8')) as {
      queries: { query: string; positives: string[] }[];
    };
    const queries = json.queries.map((q) => ({
      query: idx.get(q.query)!,
      positives: q.positives.map((p) => idx.get(p)!).filter((i) => i !== undefined),
    }));
    return { dir, files, kind: 'holidays', queries };
  }
  if (fs.existsSync(lb)) {
    const json = JSON.parse(fs.readFileSync(lb, 'utf8')) as { classes: Record<string, string> };
    const files = Object.keys(json.classes).sort();
    return { dir, files, kind: 'classes', labels: files.map((f) => json.classes[f]) };
  }
  throw new Error(`${dir} has neither groundtruth.json nor labels.json`);
}

export const imagePath = (ds: Dataset, i: number) => path.join(ds.dir, 'images', ds.files[i]);
