/**
 * The engine's log: leveled lines to any number of sinks (the rotating file in the library folder,
 * stderr or a host's callback). Workers' lines arrive through their owners and carry their scope.
 */
import path from 'node:path';
import { logLevel, type LogLevel } from '../config';
import { RotatingFile, type RotatingFileOptions } from './rotating-file';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** the same sinks, lines tagged with `scope` (e.g. 'backbone', 'finetune') */
  child(scope: string): Logger;
}

export interface LogSink {
  write(level: LogLevel, scope: string | null, message: string): void;
  close?(): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(
  sinks: LogSink[],
  minLevel: LogLevel = logLevel(),
  scope: string | null = null,
): Logger {
  const at = (level: LogLevel) => (message: string) => {
    if (RANK[level] < RANK[minLevel]) return;
    for (const sink of sinks) {
      try {
        sink.write(level, scope, message);
      } catch {
        // a full disk or a closed file must not take the engine down with it
      }
    }
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (s) => createLogger(sinks, minLevel, scope ? `${scope}/${s}` : s),
  };
}

/** Discards everything (tests, or a host that logs elsewhere). */
export const silentLogger: Logger = createLogger([], 'error');

/** `2026-01-31T12:00:00.000Z INFO  [backbone] message` — one line per message. */
export function formatLine(level: LogLevel, scope: string | null, message: string, now = new Date()): string {
  const text = message.replace(/\r?\n/g, '\n    ');
  return `${now.toISOString()} ${level.toUpperCase().padEnd(5)} ${scope ? `[${scope}] ` : ''}${text}\n`;
}

export const LOG_DIR = 'logs';
export const LOG_FILE = 'likeness.log';

/** The library's log file: `<libraryDir>/logs/likeness.log`, rotated (see RotatingFile). */
export function fileSink(libraryDir: string, options?: RotatingFileOptions): LogSink & { file: string } {
  const file = new RotatingFile(path.join(libraryDir, LOG_DIR, LOG_FILE), options);
  return {
    file: file.file,
    write: (level, scope, message) => file.write(formatLine(level, scope, message)),
    close: () => file.close(),
  };
}

/** Messages for a person at a terminal or a host's callback: the text only, info and above. */
export function callbackSink(write: (message: string) => void): LogSink {
  return {
    write: (level, scope, message) => {
      if (RANK[level] >= RANK.info) write(scope ? `${scope}: ${message}` : message);
    },
  };
}
