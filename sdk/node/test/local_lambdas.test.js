'use strict';
// Tests for local_lambdas.js: a fake gateway on a real Unix socket talks to the SDK running a
// small handler script in a real child process. Run: node --test sdk/node/test/
const test = require('node:test');
const assert = require('node:assert');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const SDK = path.resolve(__dirname, '..', 'local_lambdas.js');
const HELLO = 0x01, WELCOME = 0x02, REQUEST_HEAD = 0x10, REQUEST_BODY = 0x11;
const RESPONSE_HEAD = 0x20, RESPONSE_BODY = 0x21, RESET = 0x30;
const END = 0x01;
const TIMEOUT = 20000;

const HANDLER = `
const { Readable } = require('node:stream');
const { serve, RequestReset } = require(${JSON.stringify(SDK)});
const state = { closed: 0, bodyResets: 0 };
let arrived = 0;
let release;
const together = new Promise((resolve) => { release = resolve; });

async function* forever() {
  try {
    for (;;) {
      yield Buffer.alloc(1000, 'x');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    state.closed++;
  }
}

serve(async (req) => {
  switch (req.path) {
    case '/hello':
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello' };
    case '/json':
      return { method: req.method, path: req.path, query: req.query, target: req.target,
        agent: req.header('User-Agent'), headers: req.headers };
    case '/echo':
      return { status: 200, headers: [['content-type', 'application/octet-stream']], body: req };
    case '/echo-all':
      return await req.body();
    case '/multi':
      return { status: 201, headers: { 'x-n': ['1', '2'] }, body: new Uint8Array([97, 98]) };
    case '/stream':
      return { status: 200, headers: { 'content-type': 'text/plain' },
        body: (async function* () { for (let i = 0; i < 5; i++) yield 'part ' + i + '\\n'; })() };
    case '/readable':
      return { status: 200, body: Readable.from([Buffer.from('re'), Buffer.from('adable')]) };
    case '/forever':
      return { status: 200, body: forever() };
    case '/wait-body':
      try {
        await req.body();
      } catch (e) {
        if (e instanceof RequestReset) state.bodyResets++;
        throw e;
      }
      return 'unreachable';
    case '/status':
      return { ...state };
    case '/boom':
      throw new TypeError('boom');
    case '/boom-late':
      return { status: 200, body: (async function* () { yield 'a'; throw new RangeError('late'); })() };
    case '/together':
      if (++arrived === 4) release();
      await together;
      return req.query + ':' + (await req.body()).toString();
    case '/block':
      return new Promise(() => {});
    default:
      return { status: 404, body: 'no such path' };
  }
});
`;

function sized(text, width) {
  const data = Buffer.from(text, 'utf8');
  const size = Buffer.alloc(width);
  if (width === 2) size.writeUInt16BE(data.length); else size.writeUInt32BE(data.length);
  return Buffer.concat([size, data]);
}

function requestHead(method, target, headers = []) {
  const count = Buffer.alloc(2);
  count.writeUInt16BE(headers.length);
  return Buffer.concat([sized(method, 2), sized(target, 4), count,
    ...headers.flatMap(([n, v]) => [sized(n, 2), sized(v, 4)])]);
}

function parseResponseHead(payload) {
  const status = payload.readUInt16BE(0);
  const count = payload.readUInt16BE(2);
  const headers = [];
  let pos = 4;
  for (let i = 0; i < count; i++) {
    const n = payload.readUInt16BE(pos);
    const name = payload.toString('utf8', pos + 2, pos + 2 + n);
    pos += 2 + n;
    const m = payload.readUInt32BE(pos);
    headers.push([name, payload.toString('utf8', pos + 4, pos + 4 + m)]);
    pos += 4 + m;
  }
  return { status, headers };
}

/** Listens like the gateway, starts the handler script with PIPE_ADDRESS and speaks v1. */
class FakeGateway {
  static async start({ concurrency = 1, welcome = true } = {}) {
    const gw = new FakeGateway();
    gw.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-node-test-'));
    gw.address = path.join(gw.dir, 'pipe.sock');
    gw.server = net.createServer();
    const connected = new Promise((resolve) => gw.server.once('connection', resolve));
    await new Promise((resolve) => gw.server.listen(gw.address, resolve));
    const script = path.join(gw.dir, 'handler.js');
    fs.writeFileSync(script, HANDLER);
    gw.stderr = '';
    gw.child = spawn(process.execPath, [script], {
      env: { ...process.env, PIPE_ADDRESS: gw.address }, stdio: ['ignore', 'inherit', 'pipe'] });
    gw.child.stderr.on('data', (d) => { gw.stderr += d; });
    gw.exited = new Promise((resolve) => gw.child.once('exit', (code, signal) => resolve(code ?? signal)));
    gw.conn = await connected;
    gw.frames = [];
    gw.waiters = [];
    gw.ended = false;
    gw.others = [];
    let pending = Buffer.alloc(0);
    gw.conn.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 10 && pending.length >= 10 + pending.readUInt32BE(0)) {
        const length = pending.readUInt32BE(0);
        gw.deliver({ type: pending[4], flags: pending[5], id: pending.readUInt32BE(6),
          payload: pending.subarray(10, 10 + length) });
        pending = pending.subarray(10 + length);
      }
    });
    gw.conn.on('close', () => {
      gw.ended = true;
      for (const w of gw.waiters.splice(0)) w.reject(new Error('child closed the connection'));
    });
    gw.conn.on('error', () => {});
    const hello = await gw.readFrame();
    assert.strictEqual(hello.type, HELLO);
    gw.hello = { min: hello.payload.readUInt16BE(0), max: hello.payload.readUInt16BE(2),
      pid: hello.payload.readUInt32BE(4), sdk: hello.payload.toString('utf8', 10) };
    if (welcome) {
      const w = Buffer.alloc(8);
      w.writeUInt16BE(1, 0);
      w.writeUInt16BE(concurrency, 2);
      w.writeUInt32BE(1 << 20, 4);
      gw.send(WELCOME, 0, 0, Buffer.concat([w, sized('test-fn', 2)]));
    }
    return gw;
  }

  deliver(f) {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(f); else this.frames.push(f);
  }

  readFrame() {
    if (this.frames.length) return Promise.resolve(this.frames.shift());
    if (this.ended) return Promise.reject(new Error('child closed the connection'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  send(type, flags, id, payload = Buffer.alloc(0)) {
    const h = Buffer.alloc(10);
    h.writeUInt32BE(payload.length, 0);
    h[4] = type;
    h[5] = flags;
    h.writeUInt32BE(id, 6);
    this.conn.write(Buffer.concat([h, payload]));
  }

  sendRequest(id, method, target, { headers = [], body = null, chunk = 65536 } = {}) {
    this.send(REQUEST_HEAD, body === null ? END : 0, id, requestHead(method, target, headers));
    if (body !== null) {
      for (let start = 0; start < body.length; start += chunk) {
        this.send(REQUEST_BODY, 0, id, body.subarray(start, start + chunk));
      }
      this.send(REQUEST_BODY, END, id);
    }
  }

  /** Reads frames until every id ended (END_STREAM or RESET). */
  async replies(ids) {
    const replies = new Map(ids.map((id) => [id, { status: null, headers: [], parts: [], reset: null, bodyFrames: 0 }]));
    const open = new Set(ids);
    while (open.size) {
      const f = await this.readFrame();
      if (!open.has(f.id)) {
        this.others.push(f);
        continue;
      }
      const r = replies.get(f.id);
      if (f.type === RESPONSE_HEAD) Object.assign(r, parseResponseHead(f.payload));
      if (f.type === RESPONSE_BODY) { r.parts.push(f.payload); r.bodyFrames++; }
      if (f.type === RESET) r.reset = f.payload.toString();
      if ((f.flags & END) || f.type === RESET) open.delete(f.id);
    }
    for (const r of replies.values()) {
      r.body = Buffer.concat(r.parts);
      r.header = (name) => (r.headers.find(([k]) => k === name) || [])[1];
    }
    return replies;
  }

  async request(id, method, target, options) {
    this.sendRequest(id, method, target, options);
    return (await this.replies([id])).get(id);
  }

  async status(id) {
    return JSON.parse((await this.request(id, 'GET', '/status')).body);
  }

  close() {
    this.conn.destroy();
  }

  async stop() {
    this.close();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    await new Promise((resolve) => this.server.close(resolve));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function gatewayTest(name, options, body) {
  test(name, { timeout: TIMEOUT }, async () => {
    const gw = await FakeGateway.start(options);
    try {
      await body(gw);
    } finally {
      await gw.stop();
    }
  });
}

gatewayTest('hello carries versions, pid and sdk name', {}, async (gw) => {
  assert.deepStrictEqual(gw.hello, { min: 1, max: 1, pid: gw.child.pid, sdk: 'node/1.0' });
});

gatewayTest('answers a simple GET', {}, async (gw) => {
  const r = await gw.request(1, 'GET', '/hello');
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.body.toString(), 'hello');
  assert.strictEqual(r.header('content-type'), 'text/plain');
});

gatewayTest('passes method, target, query and headers; objects without status are JSON', {}, async (gw) => {
  const headers = [['user-agent', 'curl/8'], ['x-a', '1'], ['x-a', '2']];
  const r = await gw.request(5, 'DELETE', '/json?id=7&x=%20', { headers });
  assert.strictEqual(r.header('content-type'), 'application/json');
  assert.deepStrictEqual(JSON.parse(r.body), { method: 'DELETE', path: '/json', query: 'id=7&x=%20',
    target: '/json?id=7&x=%20', agent: 'curl/8', headers });
});

gatewayTest('echoes a 5 MB POST byte-exact', {}, async (gw) => {
  const body = crypto.randomBytes(5 * 1024 * 1024 + 17);
  let id = 1;
  for (const [target, chunk] of [['/echo', 65536], ['/echo-all', 100000]]) {
    const r = await gw.request(id++, 'POST', target, { body, chunk });
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body.length, body.length);
    assert.ok(r.body.equals(body), `${target} changed the body`);
    assert.ok(r.bodyFrames > 80, 'chunks of at most 64 KiB');
  }
});

gatewayTest('sends repeated headers and Uint8Array bodies', {}, async (gw) => {
  const r = await gw.request(2, 'GET', '/multi');
  assert.strictEqual(r.status, 201);
  assert.strictEqual(r.body.toString(), 'ab');
  assert.deepStrictEqual(r.headers.filter(([n]) => n === 'x-n'), [['x-n', '1'], ['x-n', '2']]);
});

gatewayTest('streams async iterables and Readables in chunks', {}, async (gw) => {
  const r = await gw.request(3, 'GET', '/stream');
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.body.toString(), [0, 1, 2, 3, 4].map((i) => `part ${i}\n`).join(''));
  assert.ok(r.bodyFrames >= 5);
  assert.strictEqual((await gw.request(4, 'GET', '/readable')).body.toString(), 'readable');
});

gatewayTest('a thrown error becomes 500 with the stack on stderr', {}, async (gw) => {
  const r = await gw.request(1, 'GET', '/boom');
  assert.strictEqual(r.status, 500);
  assert.match(r.body.toString(), /TypeError/);
  assert.strictEqual((await gw.request(2, 'GET', '/hello')).status, 200); // and it keeps serving
  assert.match(gw.stderr, /TypeError: boom/);
});

gatewayTest('an error after the head resets the stream', {}, async (gw) => {
  const r = await gw.request(1, 'GET', '/boom-late');
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.body.toString(), 'a');
  assert.match(r.reset, /RangeError/);
});

gatewayTest('an unknown path gets 404', {}, async (gw) => {
  assert.strictEqual((await gw.request(9, 'GET', '/nope')).status, 404);
});

gatewayTest('serves four interleaved requests concurrently', { concurrency: 4 }, async (gw) => {
  const ids = [11, 12, 13, 14];
  for (const id of ids) gw.send(REQUEST_HEAD, 0, id, requestHead('POST', `/together?${id}`));
  for (let round = 0; round < 3; round++) {
    for (const id of ids) gw.send(REQUEST_BODY, 0, id, Buffer.from(`${id}-${round};`));
  }
  for (const id of ids) gw.send(REQUEST_BODY, END, id);
  const replies = await gw.replies(ids);
  for (const id of ids) {
    assert.strictEqual(replies.get(id).status, 200);
    assert.strictEqual(replies.get(id).body.toString(), `${id}:${id}-0;${id}-1;${id}-2;`);
  }
});

gatewayTest('RESET stops a streamed response and body reads', {}, async (gw) => {
  gw.sendRequest(1, 'GET', '/forever');
  assert.strictEqual((await gw.readFrame()).type, RESPONSE_HEAD);
  assert.strictEqual((await gw.readFrame()).type, RESPONSE_BODY);
  gw.send(RESET, 0, 1, Buffer.from('client gone'));
  let id = 100;
  while ((await gw.status(id++)).closed !== 1); // wait for the generator to be closed

  gw.send(REQUEST_HEAD, 0, 3, requestHead('POST', '/wait-body'));
  gw.send(REQUEST_BODY, 0, 3, Buffer.from('some'));
  gw.send(RESET, 0, 3, Buffer.from('timeout'));
  while ((await gw.status(id++)).bodyResets !== 1);

  gw.others.length = 0;
  assert.strictEqual((await gw.request(5, 'GET', '/hello')).status, 200);
  assert.deepStrictEqual(gw.others, []); // nothing more for streams 1 and 3
  assert.doesNotMatch(gw.stderr, /Error/);
});

gatewayTest('exits 0 on EOF even while a handler runs', {}, async (gw) => {
  gw.sendRequest(1, 'GET', '/block');
  gw.close();
  assert.strictEqual(await gw.exited, 0);
});

gatewayTest('exits 0 on EOF when idle', {}, async (gw) => {
  gw.close();
  assert.strictEqual(await gw.exited, 0);
});

gatewayTest('SIGTERM finishes the in-flight request, then exits 0', {}, async (gw) => {
  gw.send(REQUEST_HEAD, 0, 1, requestHead('POST', '/echo'));
  gw.send(REQUEST_BODY, 0, 1, Buffer.from('first '));
  assert.strictEqual((await gw.readFrame()).type, RESPONSE_HEAD); // the request is in flight
  assert.strictEqual((await gw.readFrame()).payload.toString(), 'first ');
  gw.child.kill('SIGTERM');
  gw.send(REQUEST_BODY, END, 1, Buffer.from('second'));
  const second = await gw.readFrame();
  assert.deepStrictEqual([second.type, second.payload.toString()], [RESPONSE_BODY, 'second']);
  const last = await gw.readFrame();
  assert.deepStrictEqual([last.type, last.flags, last.payload.length], [RESPONSE_BODY, END, 0]);
  assert.strictEqual(await gw.exited, 0);
});

gatewayTest('a version refusal ends the child with a message', { welcome: false }, async (gw) => {
  gw.send(RESET, 0, 0, Buffer.from('versions do not overlap'));
  assert.strictEqual(await gw.exited, 1);
  assert.match(gw.stderr, /versions do not overlap/);
});

test('missing PIPE_ADDRESS exits 2 with a message', { timeout: TIMEOUT }, () => {
  const env = { ...process.env };
  delete env.PIPE_ADDRESS;
  const done = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(SDK)}).serve(() => 'x')`],
    { env, encoding: 'utf8', timeout: TIMEOUT });
  assert.strictEqual(done.status, 2);
  assert.match(done.stderr, /run me under local-lambdas; PIPE_ADDRESS is not set/);
});
