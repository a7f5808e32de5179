'use strict';
/**
 * Sizing libuv's thread pool, where sharp decodes (and fs and crypto work). libuv reads
 * UV_THREADPOOL_SIZE once, when the pool first starts — and an ES-module entry already starts it
 * while loading its own imports — so every entry point sets it from a CommonJS bootstrap before
 * anything asynchronous runs (bin/likeness.cjs, dist/main/electron-boot.cjs; scripts/start.js for
 * browser mode), and the indexer sizes its decoding from the same rule.
 * CommonJS on purpose: it must load synchronously, before the pool exists.
 */
const os = require('node:os');

/** Photos decoded at once: more than the cores, since each decode also waits on the disk. */
function decodeConcurrency(cores = os.availableParallelism()) {
  return Math.max(3, Math.ceil(cores * 1.5));
}

/** Pool threads: one per decode in flight, plus room for the file and hash work around them. */
function threadPoolSize(cores = os.availableParallelism()) {
  return Math.min(1024, Math.max(4, decodeConcurrency(cores) + 2));
}

/** Sets UV_THREADPOOL_SIZE unless the user did; returns the size the pool will have. */
function sizeThreadPool(env = process.env) {
  if (!env.UV_THREADPOOL_SIZE) env.UV_THREADPOOL_SIZE = String(threadPoolSize());
  return Number(env.UV_THREADPOOL_SIZE);
}

module.exports = { decodeConcurrency, threadPoolSize, sizeThreadPool };
