#!/usr/bin/env node
'use strict';
// A pipe function that answers every request with a JSON greeting: it echoes the request's path
// and query and the GREETING environment variable (default "hello"), which a manifest can set per
// function. Run it under local-lambdas with protocol "pipe"; started by hand (without
// PIPE_ADDRESS) it explains that and exits with status 2.
const path = require('node:path');

// The SDK is one file in sdk/node; find it relative to this file so any working directory works.
const { serve } = require(path.join(__dirname, '..', '..', 'sdk', 'node', 'local_lambdas.js'));

const GREETING = process.env.GREETING || 'hello';

// An object without `status` is sent as JSON with content-type application/json and status 200.
serve(async (req) => ({
  greeting: GREETING,
  method: req.method,
  path: req.path,
  query: req.query,
  pid: process.pid,
}));
