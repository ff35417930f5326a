'use strict';
// Answers each request after SLOW_MS milliseconds (default 1000): a handler "paused" longer than
// its function's request_timeout, for the debugging tests.
const path = require('node:path');
const { serve } = require(path.join(__dirname, '..', '..', '..', '..', '..', 'sdk', 'node', 'local_lambdas.js'));

const ms = Number(process.env.SLOW_MS || 1000);
serve(async (req) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { slept: ms, path: req.path };
});
