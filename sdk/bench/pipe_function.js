'use strict';
// The bench function of bench/functions/python/pipe_function.py, in Node, for
// sdk/bench/SdkBench.java: GET answers a small JSON body, POST streams the body back.
// LOCAL_LAMBDAS_SDK names the local_lambdas.js to use (default: this repository's), so that two
// versions can be compared.
const path = require('node:path');

const { serve } = require(process.env.LOCAL_LAMBDAS_SDK || path.join(__dirname, '..', 'node', 'local_lambdas.js'));

const BODY = Buffer.from('{"ok":true,"runtime":"node","transport":"pipe"}');

serve((req) => {
  if (req.method === 'POST') {
    return { status: 200, headers: { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }, body: req };
  }
  return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: BODY };
});
