'use strict';
// An example node:test suite against a real gateway, started once for the file by useGateway
// (sdk/node/testing.js). Run: node --test examples/testing/node/
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { useGateway } = require('../../../sdk/node/testing.js');

const gateway = useGateway(path.join(__dirname, '..', 'manifest.xml'));

test('the Node function answers', async () => {
  const r = await fetch(gateway.url + '/node/hi');
  assert.strictEqual(r.status, 200);
  assert.strictEqual((await r.json()).greeting, 'hello from Node');
});

test('the Python function reads its env file', async () => {
  const r = await fetch(gateway.url + '/python/hi');
  assert.strictEqual((await r.json()).greeting, 'hello from an env file');
});
