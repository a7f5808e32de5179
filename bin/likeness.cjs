#!/usr/bin/env node
'use strict';
// The `likeness` command. CommonJS so that libuv's pool is sized before anything starts it
// (src-main/boot/threadpool.cjs); then it registers tsx and runs the TypeScript CLI.
require('../src-main/boot/threadpool.cjs').sizeThreadPool();
import('./likeness.js');
