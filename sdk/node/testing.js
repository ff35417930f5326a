'use strict';
// Start a local-lambdas gateway for a test suite (node:test or any other), without sleeping: the
// gateway runs `serve MANIFEST --bind 127.0.0.1:0` and is ready when it prints its
// "local-lambdas: listening on URL" line, which this reads.
//
//   const { useGateway } = require('.../sdk/node/testing.js');
//   const gateway = useGateway('manifest.xml');          // before() starts it, after() stops it
//   test('hello', async () => { const r = await fetch(gateway.url + '/node/hi'); ... });
//
// The command is $LOCAL_LAMBDAS_COMMAND (split on spaces), else $LOCAL_LAMBDAS_HOME/local-lambdas,
// else local-lambdas on PATH (docs/testing.md).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const LISTENING = /^local-lambdas: listening on (https?:\/\/\S+)$/;

function gatewayCommand(env = process.env) {
  if (env.LOCAL_LAMBDAS_COMMAND) {
    return env.LOCAL_LAMBDAS_COMMAND.trim().split(/\s+/);
  }
  if (env.LOCAL_LAMBDAS_HOME) {
    const launcher = path.join(env.LOCAL_LAMBDAS_HOME, 'local-lambdas');
    if (fs.existsSync(launcher)) return [launcher];
  }
  for (const dir of (env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, 'local-lambdas');
    if (dir && fs.existsSync(candidate)) return [candidate];
  }
  throw new Error('local-lambdas not found: set LOCAL_LAMBDAS_COMMAND or LOCAL_LAMBDAS_HOME, or put local-lambdas on PATH');
}

/** Starts a gateway; resolves to { url, process, stop() } once it listens. */
function startGateway(manifest, { args = [], timeoutMs = 120000 } = {}) {
  const [cmd, ...pre] = gatewayCommand();
  const child = spawn(cmd, [...pre, 'serve', String(manifest), '--bind', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local-lambdas did not listen within ${timeoutMs} ms`));
    }, timeoutMs);
    const lines = readline.createInterface({ input: child.stdout });
    let url = null;
    lines.on('line', (line) => {
      const m = LISTENING.exec(line.trim());
      if (m && url === null) {
        url = m[1];
        clearTimeout(timer);
        resolve({ url, process: child, stop: () => stop(child) });
      }
    });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      if (url === null) {
        clearTimeout(timer);
        reject(new Error(`local-lambdas did not start (exit status ${code ?? signal}; its log is above)`));
      }
    });
  });
}

/** SIGTERM, then waits for the exit (the gateway drains and stops every child). */
function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}

/**
 * For node:test: registers before() and after() hooks in the current suite (or file) and returns
 * an object whose `url` is set once the gateway listens.
 */
function useGateway(manifest, options) {
  const { before, after } = require('node:test');
  const handle = { url: null, gateway: null };
  before(async () => {
    handle.gateway = await startGateway(manifest, options);
    handle.url = handle.gateway.url;
  });
  after(async () => { if (handle.gateway) await handle.gateway.stop(); });
  return handle;
}

module.exports = { startGateway, useGateway, gatewayCommand };
