'use strict';
/**
 * Write a local-lambdas *pipe* function in Node.js (18+, no npm packages).
 *
 *   const { serve } = require('./local_lambdas');
 *   serve(async (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' }));
 *
 * The gateway starts this program with PIPE_ADDRESS set; serve() connects to it, says HELLO and
 * answers requests until the gateway goes away, then exits the process (status 0). The wire
 * protocol is specified in docs/protocol.md.
 *
 * The handler gets a request: req.method, req.path, req.query (text after "?" or null),
 * req.target (path and query), req.headers (array of [name, value], names lower-case),
 * req.header(name), `await req.body()` (a Buffer) or `for await (const chunk of req)` (Buffers as
 * they arrive). What the handler leaves unread is discarded.
 *
 * It returns (or resolves to) an object {status, headers, body} with headers an object (values
 * may be arrays) or an array of [name, value], and body a string, Buffer, Uint8Array, async
 * iterable or Readable (streamed), or JSON-able value; or a plain string (text/plain), a Buffer
 * (application/octet-stream), an async iterable (streamed), null/undefined (204), or any other
 * value, including an object without `status`, which is sent as JSON. A thrown error becomes a
 * 500 (stack on stderr), or aborts the response if its head was already sent.
 *
 * Requests interleave up to the concurrency the gateway announced. If the gateway cancels a
 * request, reading its body rejects with RequestReset and the rest of its response is dropped.
 * SIGTERM lets in-flight requests finish, then exits 0.
 */
const net = require('node:net');

const SDK_NAME = 'node/1.0';
const VERSION = 1;
const HELLO = 0x01, WELCOME = 0x02, REQUEST_HEAD = 0x10, REQUEST_BODY = 0x11;
const RESPONSE_HEAD = 0x20, RESPONSE_BODY = 0x21, RESET = 0x30;
const KNOWN_TYPES = new Set([HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY, RESPONSE_HEAD, RESPONSE_BODY, RESET]);
const END_STREAM = 0x01;
const HEADER_SIZE = 10;
const CHUNK = 64 * 1024;
// Request body bytes buffered per request before we stop reading the socket, so that a slow
// handler slows the gateway down instead of filling memory.
const BUFFER_LIMIT = 1 << 20;
const SKIPPED_HEADERS = new Set(['content-length', 'transfer-encoding']);

class RequestReset extends Error {
  constructor() {
    super('the gateway cancelled this request');
    this.name = 'RequestReset';
  }
}

class ProtocolError extends Error {}

class Request {
  constructor(conn, id, method, target, headers, ended) {
    this.id = id;
    this.method = method;
    this.target = target;
    const q = target.indexOf('?');
    this.path = q < 0 ? target : target.slice(0, q);
    this.query = q < 0 ? null : target.slice(q + 1);
    this.headers = headers;
    this._conn = conn;
    this._chunks = [];
    this._buffered = 0;
    this._ended = ended;
    this._cancelled = false;
    this._discarding = false;
    this._waiter = null;
    this._all = null;
  }

  header(name) {
    const key = name.toLowerCase();
    const found = this.headers.find(([k]) => k === key);
    return found ? found[1] : null;
  }

  /** The whole body as one Buffer (read once, then remembered). */
  body() {
    if (this._all === null) {
      this._all = (async () => {
        const parts = [];
        for await (const chunk of this) parts.push(chunk);
        return Buffer.concat(parts);
      })();
    }
    return this._all;
  }

  async *[Symbol.asyncIterator]() {
    for (let chunk = await this._next(); chunk !== null; chunk = await this._next()) yield chunk;
  }

  _next() {
    if (this._cancelled) return Promise.reject(new RequestReset());
    if (this._chunks.length > 0) {
      const chunk = this._chunks.shift();
      this._buffered -= chunk.length;
      this._conn.flow();
      return Promise.resolve(chunk);
    }
    if (this._ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => { this._waiter = { resolve, reject }; });
  }

  _wake() {
    const waiter = this._waiter;
    if (!waiter) return;
    this._waiter = null;
    this._next().then(waiter.resolve, waiter.reject);
  }

  _push(data, end) {
    if (!this._discarding && data.length > 0) {
      this._chunks.push(data);
      this._buffered += data.length;
    }
    this._ended = this._ended || end;
    this._wake();
  }

  _cancel() {
    this._cancelled = true;
    this._wake();
  }

  _discard() {
    this._discarding = true;
    this._chunks = [];
    this._buffered = 0;
  }
}

// -- encoding -------------------------------------------------------------------------------------

function frame(type, flags, id, payload = Buffer.alloc(0)) {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt8(type, 4);
  header.writeUInt8(flags, 5);
  header.writeUInt32BE(id, 6);
  return Buffer.concat([header, payload]);
}

function sized(value, width) {
  const data = Buffer.from(value, 'utf8');
  const size = Buffer.alloc(width);
  if (width === 2) size.writeUInt16BE(data.length); else size.writeUInt32BE(data.length);
  return Buffer.concat([size, data]);
}

function encodeHeaders(pairs) {
  const count = Buffer.alloc(2);
  count.writeUInt16BE(pairs.length);
  return Buffer.concat([count, ...pairs.flatMap(([name, value]) => [sized(name, 2), sized(value, 4)])]);
}

function decodeRequestHead(payload) {
  let pos = 0;
  const text = (width) => {
    const size = width === 2 ? payload.readUInt16BE(pos) : payload.readUInt32BE(pos);
    pos += width;
    if (pos + size > payload.length) throw new ProtocolError('string runs past the end of REQUEST_HEAD');
    pos += size;
    return payload.toString('utf8', pos - size, pos);
  };
  try {
    const method = text(2);
    const target = text(4);
    const count = payload.readUInt16BE(pos);
    pos += 2;
    const headers = [];
    for (let i = 0; i < count; i++) headers.push([text(2), text(4)]);
    return { method, target, headers };
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`malformed REQUEST_HEAD: ${e.message}`);
  }
}

function headerPairs(headers) {
  const entries = Array.isArray(headers) ? headers : Object.entries(headers || {});
  const pairs = [];
  for (const [rawName, rawValue] of entries) {
    for (const value of Array.isArray(rawValue) ? rawValue : [rawValue]) {
      const name = String(rawName).toLowerCase();
      const text = String(value);
      if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name) || /[\r\n\0]/.test(text)) {
        throw new Error(`invalid response header ${JSON.stringify(name)}: ${JSON.stringify(text)}`);
      }
      if (!SKIPPED_HEADERS.has(name)) pairs.push([name, text]);
    }
  }
  return pairs;
}

const isBytes = (v) => v instanceof Uint8Array; // Buffers are Uint8Arrays
const isStream = (v) => v != null && typeof v === 'object' && !isBytes(v) &&
  (typeof v[Symbol.asyncIterator] === 'function' ||
   (typeof v.next === 'function' && typeof v[Symbol.iterator] === 'function'));

/** {status, pairs, body: Buffer or (async) iterable} from whatever the handler returned. */
function normalize(result) {
  let status = 200, headers = null, body = result;
  if (result == null) {
    status = 204;
  } else if (typeof result === 'object' && !isBytes(result) && !isStream(result) && 'status' in result) {
    ({ status, headers, body } = result);
  }
  if (!Number.isInteger(status) || status <= 100 || status > 599 || status === 101) {
    throw new Error(`invalid response status ${status}`);
  }
  const pairs = headerPairs(headers);
  let type = 'application/octet-stream';
  if (body == null) {
    body = Buffer.alloc(0);
    type = null;
  } else if (typeof body === 'string') {
    body = Buffer.from(body, 'utf8');
    type = 'text/plain; charset=utf-8';
  } else if (isBytes(body)) {
    body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  } else if (!isStream(body)) {
    body = Buffer.from(JSON.stringify(body), 'utf8');
    type = 'application/json';
  }
  if (type && !pairs.some(([name]) => name === 'content-type')) pairs.push(['content-type', type]);
  return { status, pairs, body };
}

// -- connection -----------------------------------------------------------------------------------

class Connection {
  constructor(handler) {
    this.handler = handler;
    this.socket = null;
    this.pending = [];
    this.pendingLength = 0;
    this.header = null;
    this.welcomed = false;
    this.requests = new Map();
    this.inFlight = 0;
    this.terminating = false;
    this.paused = false;
    this.drained = null;
    this.maxPayload = 1 << 20;
    this.chunk = CHUNK;
  }

  connect(address) {
    this.socket = net.createConnection(address);
    this.socket.on('connect', () => {
      const hello = Buffer.alloc(8);
      hello.writeUInt16BE(VERSION, 0);
      hello.writeUInt16BE(VERSION, 2);
      hello.writeUInt32BE(process.pid, 4);
      this.socket.write(frame(HELLO, 0, 0, Buffer.concat([hello, sized(SDK_NAME, 2)])));
    });
    this.socket.on('data', (data) => {
      try {
        this.onData(data);
      } catch (e) {
        this.die(1, e instanceof ProtocolError ? `protocol error: ${e.message}` : e.stack);
      }
    });
    // The gateway has gone away: nobody can receive answers any more, so leave at once.
    this.socket.on('end', () => process.exit(0));
    this.socket.on('close', () => process.exit(0));
    this.socket.on('error', (e) => {
      if (!this.welcomed) this.die(1, `cannot connect to the gateway at ${address}: ${e.message}`);
    });
  }

  die(status, message) {
    process.stderr.write(`local_lambdas: ${message}\n`);
    process.exit(status);
  }

  take(n) {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.pending[0];
      const used = Math.min(head.length, n - filled);
      if (used === n) { // the common case: no copy
        this.pending[0] = head.subarray(used);
        if (this.pending[0].length === 0) this.pending.shift();
        this.pendingLength -= n;
        return head.subarray(0, used);
      }
      head.copy(out, filled, 0, used);
      filled += used;
      if (used === head.length) this.pending.shift(); else this.pending[0] = head.subarray(used);
    }
    this.pendingLength -= n;
    return out;
  }

  onData(data) {
    this.pending.push(data);
    this.pendingLength += data.length;
    for (;;) {
      if (this.header === null) {
        if (this.pendingLength < HEADER_SIZE) return;
        const h = this.take(HEADER_SIZE);
        this.header = { length: h.readUInt32BE(0), type: h[4], flags: h[5], id: h.readUInt32BE(6) };
        if (this.header.length > this.maxPayload) {
          throw new ProtocolError(`frame of ${this.header.length} bytes exceeds max payload ${this.maxPayload}`);
        }
        if (!KNOWN_TYPES.has(this.header.type) || (this.header.flags & ~END_STREAM) !== 0) {
          throw new ProtocolError(`bad frame type ${this.header.type} or flags ${this.header.flags}`);
        }
      }
      if (this.pendingLength < this.header.length) return;
      const { type, flags, id, length } = this.header;
      this.header = null;
      this.onFrame(type, (flags & END_STREAM) !== 0, id, length ? this.take(length) : Buffer.alloc(0));
    }
  }

  onFrame(type, end, id, payload) {
    if (!this.welcomed) {
      if (type === RESET) throw new ProtocolError(`the gateway refused us: ${payload.toString('utf8')}`);
      if (type !== WELCOME) throw new ProtocolError(`expected WELCOME, got frame type ${type}`);
      if (payload.readUInt16BE(0) !== VERSION) throw new ProtocolError(`unsupported version ${payload.readUInt16BE(0)}`);
      this.maxPayload = payload.readUInt32BE(4);
      this.chunk = Math.max(1, Math.min(CHUNK, this.maxPayload));
      this.welcomed = true;
    } else if (type === REQUEST_HEAD) {
      if (id === 0 || this.requests.has(id)) throw new ProtocolError(`REQUEST_HEAD for stream ${id} that is 0 or in use`);
      const { method, target, headers } = decodeRequestHead(payload);
      const req = new Request(this, id, method, target, headers, end);
      const exchange = { req, reset: false, headSent: false };
      if (this.terminating) { // its body frames, if any, are ignored as for an unknown id
        this.respond(exchange, { status: 503, headers: { 'content-type': 'text/plain' }, body: 'shutting down\n' })
          .catch(() => {});
        return;
      }
      this.requests.set(id, exchange);
      this.inFlight++;
      this.run(exchange);
    } else if (type === REQUEST_BODY) {
      // A request we already finished (or that was reset) may still get body frames.
      const exchange = this.requests.get(id);
      if (exchange) {
        exchange.req._push(payload, end);
        this.flow();
      }
    } else if (type === RESET && id !== 0) {
      const exchange = this.requests.get(id);
      if (exchange) {
        this.requests.delete(id);
        exchange.reset = true;
        exchange.req._cancel();
        this.flow();
      }
    } else {
      throw new ProtocolError(`unexpected frame type ${type} on stream ${id}`);
    }
  }

  /** Stops reading the socket while some request has too much unread body. */
  flow() {
    let full = false;
    for (const { req } of this.requests.values()) full = full || req._buffered >= BUFFER_LIMIT;
    if (full !== this.paused) {
      this.paused = full;
      if (full) this.socket.pause(); else this.socket.resume();
    }
  }

  async send(exchange, type, flags, payload) {
    if (exchange.reset) return;
    if (!this.socket.write(frame(type, flags, exchange.req.id, payload))) {
      this.drained = this.drained || new Promise((resolve) => this.socket.once('drain', () => {
        this.drained = null;
        resolve();
      }));
      await this.drained;
    }
  }

  async respond(exchange, result) {
    const { status, pairs, body } = normalize(result);
    const code = Buffer.alloc(2);
    code.writeUInt16BE(status);
    const head = Buffer.concat([code, encodeHeaders(pairs)]);
    exchange.headSent = true;
    if (isBytes(body)) {
      await this.send(exchange, RESPONSE_HEAD, body.length ? 0 : END_STREAM, head);
      for (let start = 0; start < body.length; start += this.chunk) {
        const last = start + this.chunk >= body.length;
        await this.send(exchange, RESPONSE_BODY, last ? END_STREAM : 0, body.subarray(start, start + this.chunk));
      }
      return;
    }
    await this.send(exchange, RESPONSE_HEAD, 0, head);
    for await (const piece of body) {
      if (exchange.reset) return; // leaving the loop closes the iterator
      const data = typeof piece === 'string' ? Buffer.from(piece, 'utf8')
        : isBytes(piece) ? Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength) : Buffer.from(piece);
      for (let start = 0; start < data.length; start += this.chunk) {
        await this.send(exchange, RESPONSE_BODY, 0, data.subarray(start, start + this.chunk));
      }
    }
    await this.send(exchange, RESPONSE_BODY, END_STREAM, Buffer.alloc(0));
  }

  async run(exchange) {
    try {
      await this.respond(exchange, await this.handler(exchange.req));
    } catch (e) {
      if (!exchange.reset && !(e instanceof RequestReset)) {
        console.error(e);
        const name = (e && e.name) || 'Error';
        try {
          if (exchange.headSent) {
            await this.send(exchange, RESET, 0, Buffer.from(`handler threw ${name}`));
          } else {
            await this.respond(exchange, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' },
              body: `500 Internal Server Error: handler threw ${name}\n` });
          }
        } catch (ignored) {
          // the connection is gone; 'close' ends the process
        }
      }
    } finally {
      exchange.req._discard();
      if (this.requests.get(exchange.req.id) === exchange) this.requests.delete(exchange.req.id);
      this.flow();
      this.inFlight--;
      if (this.terminating && this.inFlight === 0) process.exit(0);
    }
  }

  terminate() {
    this.terminating = true;
    if (this.inFlight === 0) process.exit(0);
  }
}

/** Serves requests with handler(req) until the gateway goes away, then exits the process. */
function serve(handler) {
  const address = process.env.PIPE_ADDRESS;
  if (!address) {
    process.stderr.write('run me under local-lambdas; PIPE_ADDRESS is not set\n');
    process.exit(2);
  }
  const conn = new Connection(handler);
  // Installed before HELLO: once the gateway sees us ready, SIGTERM is graceful.
  process.on('SIGTERM', () => conn.terminate());
  conn.connect(address);
}

module.exports = { serve, RequestReset };
