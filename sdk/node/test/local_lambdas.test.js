'use strict';
// Tests for local_lambdas.js: a fake gateway on a real Unix socket talks to the SDK running a
// small handler script in a real child process. The fake gateway speaks protocol 1.1 (version 2)
// or 1.0 (version 1) and checks every response body frame against the request's window.
// Run: node --test sdk/node/test/
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
const RESPONSE_HEAD = 0x20, RESPONSE_BODY = 0x21, RESET = 0x30, CREDIT = 0x31;
const END = 0x01;
const TIMEOUT = 20000;
const WINDOW = 65536; // the smallest window the spec allows: small bodies exercise flow control

const HANDLER = `
const { Readable } = require('node:stream');
const { serve, RequestReset } = require(${JSON.stringify(SDK)});
const state = { closed: 0, bodyResets: 0, holding: 0, returned: 0 };
let arrived = 0;
let release;
const together = new Promise((resolve) => { release = resolve; });
let letGo;
const held = new Promise((resolve) => { letGo = resolve; });
process.on('SIGUSR1', () => letGo());

async function* pieces(size) {
  try {
    for (let sent = 0; sent < size; sent += 16384) yield Buffer.alloc(Math.min(16384, size - sent), 'y');
  } finally {
    state.closed++;
  }
}

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
    case '/deadline':
      return { deadline: req.deadline, now: performance.now(), remaining: String(req.remainingMs()) };
    case '/big':
      return Buffer.alloc(Number(req.query), 'x');
    case '/big-stream':
      return { status: 200, body: pieces(Number(req.query)) };
    case '/hold':
      state.holding++;
      await held;
      state.returned++;
      return 'late';
    case '/hold-read':
      await held;
      return String((await req.body()).length);
    case '/release':
      letGo();
      return 'released';
    case '/oserror':
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
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

/**
 * Listens like the gateway, starts the handler script with PIPE_ADDRESS and speaks version 2 (or
 * 1). It never sends more request body than the child credited, checks that the child never sends
 * more response body than it was credited (gw.violations, checked after every test) and grants
 * response credit as it reads, unless autoCredit is off. CREDIT frames from the child are recorded
 * in gw.credits, not queued with the other frames.
 */
class FakeGateway {
  static async start({ concurrency = 1, welcome = true, version = 2, window = WINDOW, autoCredit = true } = {}) {
    const gw = new FakeGateway();
    Object.assign(gw, { version, window, autoCredit, requestWindow: new Map(), responseWindow: new Map(),
      uncredited: new Map(), windowWaiters: [], credits: [], violations: [] });
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
          payload: Buffer.from(pending.subarray(10, 10 + length)) });
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
      pid: hello.payload.readUInt32BE(4), sdk: hello.payload.toString('utf8', 10),
      payloadLength: hello.payload.length };
    if (welcome) gw.send(WELCOME, 0, 0, gw.welcomePayload(concurrency));
    return gw;
  }

  welcomePayload(concurrency, extra = null) {
    const w = Buffer.alloc(8);
    w.writeUInt16BE(this.version, 0);
    w.writeUInt16BE(concurrency, 2);
    w.writeUInt32BE(1 << 20, 4);
    const tail = extra || (this.version === 2 ? Buffer.concat([u32(this.window), u32(0)]) : Buffer.alloc(0));
    return Buffer.concat([w, sized('test-fn', 2), tail]);
  }

  deliver(f) {
    if (this.version === 2 && f.type === CREDIT) { // the bookkeeping a gateway does
      const increment = f.payload.readUInt32BE(0);
      if (f.id === 0 || increment === 0) this.violations.push(`CREDIT ${increment} on stream ${f.id}`);
      this.credits.push([f.id, increment]);
      if (this.requestWindow.has(f.id)) {
        this.requestWindow.set(f.id, this.requestWindow.get(f.id) + increment);
        for (const wake of this.windowWaiters.splice(0)) wake();
      }
      return;
    }
    if (this.version === 2 && f.type === RESPONSE_BODY && this.responseWindow.has(f.id)) {
      const window = this.responseWindow.get(f.id);
      if (f.payload.length > window) this.violations.push(`stream ${f.id} sent ${f.payload.length} bytes with a window of ${window}`);
      this.responseWindow.set(f.id, window - f.payload.length);
      const uncredited = this.uncredited.get(f.id) + f.payload.length;
      this.uncredited.set(f.id, uncredited);
      if (this.autoCredit && !(f.flags & END) && uncredited >= this.window / 2) this.grant(f.id, uncredited);
    }
    this.queue(f);
  }

  grant(id, increment) {
    this.responseWindow.set(id, this.responseWindow.get(id) + increment);
    this.uncredited.set(id, Math.max(0, this.uncredited.get(id) - increment));
    this.send(CREDIT, 0, id, u32(increment));
  }

  queue(f) {
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

  sendHead(id, method, target, { headers = [], end = true, deadlineMs = 0 } = {}) {
    this.requestWindow.set(id, this.window);
    this.responseWindow.set(id, this.window);
    this.uncredited.set(id, 0);
    const head = requestHead(method, target, headers);
    this.send(REQUEST_HEAD, end ? END : 0, id, this.version === 2 ? Buffer.concat([head, u32(deadlineMs)]) : head);
  }

  /** Sends body in frames of at most chunk bytes and what the child credited (version 2). */
  async sendBody(id, body, { end = false, chunk = 65536 } = {}) {
    for (let pos = 0; pos < body.length;) {
      let n = Math.min(chunk, body.length - pos);
      if (this.version === 2) {
        while (this.requestWindow.get(id) === 0) await new Promise((resolve) => this.windowWaiters.push(resolve));
        n = Math.min(n, this.requestWindow.get(id));
        this.requestWindow.set(id, this.requestWindow.get(id) - n);
      }
      this.send(REQUEST_BODY, end && pos + n === body.length ? END : 0, id, body.subarray(pos, pos + n));
      pos += n;
    }
    if (end && body.length === 0) this.send(REQUEST_BODY, END, id);
  }

  sendRequest(id, method, target, { headers = [], body = null, chunk = 65536 } = {}) {
    this.sendHead(id, method, target, { headers, end: body === null });
    if (body === null) return Promise.resolve();
    return this.sendBody(id, body, { chunk }).then(() => this.send(REQUEST_BODY, END, id));
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
    const sent = this.sendRequest(id, method, target, options);
    const reply = (await this.replies([id])).get(id);
    await sent;
    return reply;
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

function u32(value) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/** A test against a fake gateway; without options.version, once with each version. */
function gatewayTest(name, options, body) {
  for (const version of options.version ? [options.version] : [2, 1]) {
    test(`${name} (version ${version})`, { timeout: TIMEOUT }, async () => {
      const gw = await FakeGateway.start({ ...options, version });
      try {
        await body(gw);
        assert.deepStrictEqual(gw.violations, []);
      } finally {
        await gw.stop();
      }
    });
  }
}

gatewayTest('hello offers versions 1 to 2 with pid and sdk name', {}, async (gw) => {
  // No capabilities word: a 1.0 gateway refuses bytes after sdk (docs/protocol.md 7.1).
  assert.deepStrictEqual(gw.hello, { min: 1, max: 2, pid: gw.child.pid, sdk: 'node/1.1', payloadLength: 18 });
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
  for (const id of ids) gw.sendHead(id, 'POST', `/together?${id}`, { end: false });
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

  gw.sendHead(3, 'POST', '/wait-body', { end: false });
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
  gw.sendHead(1, 'POST', '/echo', { end: false });
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

gatewayTest('an error of the handler itself, such as ENOENT, is a 500', {}, async (gw) => {
  assert.strictEqual((await gw.request(1, 'GET', '/oserror')).status, 500);
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

// -- the rules of docs/protocol.md section 7, one by one ------------------------------------------

/** Reads frames of stream id until size response body bytes came; returns how many. */
async function readBody(gw, id, size) {
  let received = 0;
  while (received < size) {
    const f = await gw.readFrame();
    if (f.id === id && f.type === RESPONSE_BODY) received += f.payload.length;
  }
  return received;
}

gatewayTest('a version 1 WELCOME: no deadline field expected, no CREDIT sent', { version: 1 }, async (gw) => {
  const seen = JSON.parse((await gw.request(1, 'GET', '/deadline')).body); // a head without deadline_ms
  assert.deepStrictEqual([seen.deadline, seen.remaining], [null, 'Infinity']);
  const body = crypto.randomBytes(4 * WINDOW + 5);
  const r = await gw.request(2, 'POST', '/echo-all', { body });
  assert.ok(r.body.equals(body));
  assert.deepStrictEqual(gw.others.filter((f) => f.type === CREDIT), []);
  assert.deepStrictEqual(gw.credits, []);
});

gatewayTest('a version 1 gateway sending CREDIT is a protocol error', { version: 1 }, async (gw) => {
  gw.send(CREDIT, 0, 1, u32(10));
  assert.strictEqual(await gw.exited, 1);
  assert.match(gw.stderr, /protocol error/);
});

gatewayTest('the deadline is exposed as performance.now() time and remaining milliseconds', { version: 2 }, async (gw) => {
  gw.sendHead(1, 'GET', '/deadline', { deadlineMs: 5000 });
  const seen = JSON.parse((await gw.replies([1])).get(1).body);
  assert.ok(Number(seen.remaining) > 0 && Number(seen.remaining) <= 5000, seen.remaining);
  assert.ok(seen.deadline - seen.now > 0 && seen.deadline - seen.now <= 5000);
  gw.sendHead(2, 'GET', '/deadline', { deadlineMs: 0 });
  const none = JSON.parse((await gw.replies([2])).get(2).body);
  assert.deepStrictEqual([none.deadline, none.remaining], [null, 'Infinity']);
});

for (const concurrency of [1, 2]) {
  gatewayTest(`a response waits for CREDIT and never exceeds the window (concurrency ${concurrency})`,
    { version: 2, concurrency, autoCredit: false }, async (gw) => {
      const size = 3 * WINDOW + 100;
      gw.sendHead(1, 'GET', `/big?${size}`);
      let received = await readBody(gw, 1, WINDOW); // exactly one window, then it must wait
      assert.strictEqual(received, WINDOW);
      // The writer waits: another request is answered with no byte of stream 1 first.
      assert.strictEqual((await gw.request(2, 'GET', '/hello')).body.toString(), 'hello');
      assert.deepStrictEqual(gw.others.filter((f) => f.id === 1), []);
      gw.grant(1, 1000); // a little: exactly that much comes
      received += await readBody(gw, 1, 1000);
      gw.grant(1, size); // the rest
      const r = (await gw.replies([1])).get(1);
      assert.strictEqual(received + r.body.length, size);
    });

  gatewayTest(`RESET wakes a writer waiting for CREDIT and is acknowledged (concurrency ${concurrency})`,
    { version: 2, concurrency, autoCredit: false }, async (gw) => {
      gw.sendHead(1, 'GET', `/big-stream?${4 * WINDOW}`);
      await readBody(gw, 1, WINDOW);
      gw.send(RESET, 0, 1, Buffer.from('client gone'));
      const r = (await gw.replies([1])).get(1); // the acknowledgement, nothing past the window
      assert.notStrictEqual(r.reset, null);
      assert.strictEqual(r.body.length, 0);
      assert.strictEqual((await gw.status(2)).closed, 1); // the generator was closed
    });

  gatewayTest(`large bodies flow both ways with CREDIT (concurrency ${concurrency})`, { version: 2, concurrency }, async (gw) => {
    const body = crypto.randomBytes(10 * WINDOW + 3);
    let id = 1;
    for (const target of ['/echo', '/echo-all']) {
      const r = await gw.request(id++, 'POST', target, { body, chunk: Math.floor(WINDOW / 3) });
      assert.ok(r.body.equals(body), target);
    }
    assert.ok(gw.credits.length > 10);
  });

  gatewayTest(`a RESET crossing the final frame is not acknowledged (concurrency ${concurrency})`,
    { version: 2, concurrency }, async (gw) => {
      assert.strictEqual((await gw.request(1, 'GET', '/hello')).status, 200);
      gw.send(RESET, 0, 1, Buffer.from('crossed'));
      gw.send(RESET, 0, 77, Buffer.from('never used'));
      assert.strictEqual((await gw.request(2, 'GET', '/hello')).status, 200);
      assert.deepStrictEqual(gw.others, []);
    });
}

gatewayTest('a request body is buffered up to the window without stalling other requests',
  { version: 2, concurrency: 3 }, async (gw) => {
    gw.sendHead(1, 'POST', '/hold-read', { end: false });
    await gw.sendBody(1, Buffer.alloc(WINDOW, 'a'), { chunk: WINDOW / 4 }); // not read by the handler yet
    assert.strictEqual((await gw.request(2, 'GET', '/hello')).body.toString(), 'hello'); // not stuck
    assert.deepStrictEqual(gw.credits, []); // nothing consumed, nothing credited
    assert.strictEqual((await gw.request(3, 'GET', '/release')).body.toString(), 'released');
    // The handler now reads: CREDIT comes as it consumes, so the rest can be sent.
    const sent = gw.sendBody(1, Buffer.alloc(2 * WINDOW, 'b'), { end: true });
    const r = (await gw.replies([1])).get(1);
    await sent;
    assert.strictEqual(r.body.toString(), String(3 * WINDOW));
    assert.ok(gw.credits.length > 0);
    for (const [id, increment] of gw.credits) {
      assert.strictEqual(id, 1);
      assert.ok(increment >= WINDOW / 2, `CREDIT of ${increment}`);
    }
  });

gatewayTest('RESET is acknowledged only after the handler returns', { version: 2, concurrency: 2 }, async (gw) => {
  gw.sendHead(1, 'GET', '/hold');
  let id = 100;
  while ((await gw.status(id++)).holding === 0); // the handler runs
  gw.send(RESET, 0, 1, Buffer.from('timeout'));
  // Were RESET acknowledged before the handler returned, the acknowledgement would come before
  // this answer: the SDK reads RESET before the next request.
  assert.strictEqual((await gw.request(2, 'GET', '/hello')).body.toString(), 'hello');
  assert.deepStrictEqual(gw.others, []);
  assert.strictEqual((await gw.status(3)).returned, 0);
  gw.child.kill('SIGUSR1'); // releases the handler
  const r = (await gw.replies([1])).get(1);
  assert.deepStrictEqual([r.status, r.body.length], [null, 0]); // its late answer is dropped
  assert.notStrictEqual(r.reset, null);
  assert.strictEqual((await gw.status(4)).returned, 1);
});

gatewayTest('RESET while the body is read is acknowledged once', { version: 2 }, async (gw) => {
  gw.sendHead(1, 'POST', '/wait-body', { end: false });
  await gw.sendBody(1, Buffer.from('some'));
  gw.send(RESET, 0, 1, Buffer.from('timeout'));
  const r = (await gw.replies([1])).get(1);
  assert.notStrictEqual(r.reset, null);
  assert.strictEqual((await gw.status(2)).bodyResets, 1);
  assert.deepStrictEqual(gw.others, []); // one final frame for stream 1, no more
});

for (const [name, violate] of [
  ['CREDIT of 0', (gw) => gw.send(CREDIT, 0, 1, u32(0))],
  ['CREDIT on stream 0', (gw) => gw.send(CREDIT, 0, 0, u32(5))],
  ['CREDIT of 5 bytes', (gw) => gw.send(CREDIT, 0, 1, Buffer.from([0, 0, 0, 1, 0]))],
  ['a window past 2^31-1', (gw) => gw.send(CREDIT, 0, 1, u32(2 ** 31 - WINDOW))],
  ['a body frame larger than the window', (gw) => gw.send(REQUEST_BODY, 0, 1, Buffer.alloc(WINDOW + 1))],
]) {
  gatewayTest(`protocol error: ${name}`, { version: 2, concurrency: 2 }, async (gw) => {
    gw.sendHead(1, 'POST', '/hold-read', { end: false }); // a request in flight
    violate(gw);
    assert.strictEqual(await gw.exited, 1);
    assert.match(gw.stderr, /protocol error/);
  });
}

for (const [name, tail] of [
  ['trailing bytes', Buffer.concat([u32(WINDOW), u32(0), Buffer.from([0])])],
  ['a window below 64 KiB', Buffer.concat([u32(WINDOW - 1), u32(0)])],
  ['a capability not offered', Buffer.concat([u32(WINDOW), u32(1)])],
  ['no window', Buffer.alloc(0)],
]) {
  gatewayTest(`a version 2 WELCOME with ${name} is refused`, { version: 2, welcome: false }, async (gw) => {
    gw.send(WELCOME, 0, 0, gw.welcomePayload(1, tail));
    assert.strictEqual(await gw.exited, 1);
  });
}
