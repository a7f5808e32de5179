'use strict';
// Electron's main entry (package.json "main"): sizes libuv's pool, then loads the ES-module main.
require('./threadpool.cjs').sizeThreadPool();
const path = require('node:path');
const { pathToFileURL } = require('node:url');
// A computed specifier, so that the bundler leaves the sibling bundle to be loaded at run time.
import(pathToFileURL(path.join(__dirname, 'electron-main.js')).href);
