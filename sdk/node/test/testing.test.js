'use strict';
// Tests of sdk/node/testing.js against a fake gateway command (a shell script): fast, no JVM. The
// real gateway is exercised by examples/testing (run from the Maven build).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startGateway, gatewayCommand } = require('../testing.js');

function fake(script) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-gw-'));
  const file = path.join(dir, 'fake-gateway');
  fs.writeFileSync(file, '#!/bin/sh\n' + script, { mode: 0o700 });
  return { file, dir };
}

test('resolves with the URL of the listening line and stops the process', async (t) => {
  const { file, dir } = fake(`echo "$@" > "${'$'}(dirname "$0")/args"
echo "local-lambdas: listening on http://127.0.0.1:4321"
trap 'exit 0' TERM
while :; do sleep 0.05; done
`);
  process.env.LOCAL_LAMBDAS_COMMAND = file;
  t.after(() => delete process.env.LOCAL_LAMBDAS_COMMAND);
  const gw = await startGateway('m.xml');
  assert.strictEqual(gw.url, 'http://127.0.0.1:4321');
  await gw.stop();
  assert.notStrictEqual(gw.process.exitCode ?? gw.process.signalCode, null);
  assert.strictEqual(fs.readFileSync(path.join(dir, 'args'), 'utf8').trim(), 'serve m.xml --bind 127.0.0.1:0');
});

test('rejects with the exit status when the gateway exits first', async (t) => {
  process.env.LOCAL_LAMBDAS_COMMAND = fake('echo nope\nexit 2\n').file;
  t.after(() => delete process.env.LOCAL_LAMBDAS_COMMAND);
  await assert.rejects(startGateway('m.xml'), /exit status 2/);
});

test('the command comes from LOCAL_LAMBDAS_COMMAND first', () => {
  assert.deepStrictEqual(gatewayCommand({ LOCAL_LAMBDAS_COMMAND: 'java -cp x Main' }), ['java', '-cp', 'x', 'Main']);
});
