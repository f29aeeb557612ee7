/**
 * The file store's building blocks: `meta.yaml` files (PyYAML `safe_dump` output), folders of
 * one-file-per-key values (params, tags, metadata; a key with `/` is a nested path), and
 * listings that tolerate a folder vanishing while MLflow moves it (to `.trash`, say).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { Tag } from '../../domain/types';

/**
 * Parses what PyYAML's `safe_dump` writes (block maps and lists, plain and quoted scalars, folded
 * long strings, `null`); `meta.yaml` files are nothing more. The core schema reads them as PyYAML
 * does: PyYAML quotes every string that YAML 1.1 would read as something else.
 */
export function parseMetaYaml(text: string): Record<string, unknown> {
  const value: unknown = parse(text, { schema: 'core', uniqueKeys: false });
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A folder's `meta.yaml`, or undefined when it has none (not an entity folder, or half-written). */
export function readMeta(dir: string, file = 'meta.yaml'): Record<string, unknown> | undefined {
  try {
    return parseMetaYaml(fs.readFileSync(path.join(dir, file), 'utf8'));
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** Names of the sub-folders of `dir`; none when it does not exist. */
export function listDirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

/** Every file under `dir` as (key, content), the key being its path below `dir` with `/` separators. */
export function readKeyFiles(dir: string): Tag[] {
  const out: Tag[] = [];
  const walk = (sub: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, sub), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const e of entries) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile()) out.push({ key: rel, value: fs.readFileSync(path.join(dir, rel), 'utf8') });
    }
  };
  walk('');
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The lines of `file` as Python's `readlines` splits them, without their line ends; none if absent. */
export function readLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A YAML scalar as the string MLflow reads it (ids are sometimes written unquoted, as numbers). */
export function yamlStr(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

export function yamlNum(v: unknown): number {
  return typeof v === 'number' ? v : v === null || v === undefined || v === '' ? 0 : Number(v);
}

/** Set `key` on `target` only when the YAML value is present (MLflow leaves such fields unset). */
export function optional<T extends object>(target: T, key: keyof T & string, v: unknown): void {
  if (v !== null && v !== undefined) (target as Record<string, unknown>)[key] = String(v);
}
