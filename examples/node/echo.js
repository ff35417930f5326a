#!/usr/bin/env node
'use strict';
// A pipe function that sends the request body straight back, for payloads of any size.
//
// The body is never held in memory as a whole: the request is an async iterable of chunks as the
// gateway delivers them, and a response whose body is an async iterable is streamed out chunk by
// chunk while the rest of the request is still arriving. The request's content-type, if any, is
// kept.
const path = require('node:path');

const { serve } = require(path.join(__dirname, '..', '..', 'sdk', 'node', 'local_lambdas.js'));

serve(async (req) => ({
  status: 200,
  headers: { 'content-type': req.header('content-type') || 'application/octet-stream' },
  body: req,
}));
