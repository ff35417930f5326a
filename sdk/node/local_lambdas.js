'use strict';
/**
 * Write a local-lambdas *pipe* function in Node.js (18+, no npm packages).
 *
 *   const { serve } = require('./local_lambdas');
 *   serve(async (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' }));
 *
 * The gateway starts this program with PIPE_ADDRESS set; serve() connects to it, says HELLO and
 * answers requests until the gateway goes away, then exits the process (status 0). The wire
 * protocol is specified in docs/protocol.md; this SDK speaks versions 1.0 and 1.1 and uses
 * whichever the gateway chooses.
 *
 * The handler gets a request: req.method, req.path, req.query (text after "?" or null),
 * req.target (path and query), req.headers (array of [name, value], names lower-case),
 * req.header(name), `await req.body()` (a Buffer) or `for await (const chunk of req)` (Buffers as
 * they arrive). What the handler leaves unread is discarded.
 *
 * Deadline: req.deadline is the time (on the performance.now() clock, in milliseconds) after which
 * the gateway gives up on the request and answers 504 itself, or null when the request has none
 * (always so with a protocol 1.0 gateway); req.remainingMs() is the whole milliseconds left until
 * then (0 once passed), Infinity without a deadline.
 *
 * It returns (or resolves to) an object {status, headers, body} with headers an object (values
 * may be arrays) or an array of [name, value], and body a string, Buffer, Uint8Array, async
 * iterable or Readable (streamed), or JSON-able value; or a plain string (text/plain), a Buffer
 * (application/octet-stream), an async iterable (streamed), null/undefined (204), or any other
 * value, including an object without `status`, which is sent as JSON. A thrown error becomes a
 * 500 (stack on stderr), or aborts the response if its head was already sent.
 *
 * Cancellation: if the gateway cancels a request (the client went away or it timed out), reading
 * its body rejects with RequestReset, a streamed body is closed (an async generator's `finally`
 * runs; a Readable is destroyed) and the rest of its response is dropped. Under protocol 1.1 the
 * SDK tells the gateway once the handler's promise has settled and its body is closed, and the
 * gateway keeps the request's slot busy until then: a handler that ignores the cancellation
 * delays the next request, so stop early.
 *
 * Flow control (protocol 1.1): each request may have one window of body bytes (WELCOME's window,
 * 256 KiB from local-lambdas) buffered; the SDK grants the gateway more as the handler reads, so a
 * handler that reads slowly slows only its own request. A streamed response is pulled from its
 * iterable only while the gateway has granted room, i.e. as fast as the client reads.
 *
 * Shared memory (docs/protocol.md section 8): when the gateway offers it (LOCAL_LAMBDAS_CAPABILITIES)
 * large bodies travel through the instance's segment instead of the socket. Node cannot map memory,
 * so the SDK keeps a descriptor of the segment and reads and writes slots with positional reads and
 * writes (pread/pwrite); handlers see no difference.
 *
 * Requests interleave up to the concurrency the gateway announced. SIGTERM lets in-flight requests
 * finish, then exits 0.
 */
const fs = require('node:fs');
const net = require('node:net');

const SDK_NAME = 'node/1.1';
const MIN_VERSION = 1, MAX_VERSION = 2;
const HELLO = 0x01, WELCOME = 0x02, REQUEST_HEAD = 0x10, REQUEST_BODY = 0x11;
const RESPONSE_HEAD = 0x20, RESPONSE_BODY = 0x21, RESET = 0x30, CREDIT = 0x31;
const TYPES_V1 = [HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY, RESPONSE_HEAD, RESPONSE_BODY, RESET];
const TYPES = { 1: new Set(TYPES_V1), 2: new Set([...TYPES_V1, CREDIT]) };
const SHM_ATTACH = 0x40, SHM_BODY = 0x41, SHM_RELEASE = 0x42, CAP_SHM = 0x1;
const SHM_MAGIC = 0x4C4C534D;
const END_STREAM = 0x01;
const HEADER_SIZE = 10;
const CHUNK = 64 * 1024;
const MIN_WINDOW = 1 << 16, MAX_WINDOW = 2 ** 31 - 1;
// Frames whose payloads add up to at most this are copied into one buffer; larger payloads are
// written as they are, never copied. Either way the socket is corked until the end of the tick, so
// what a tick writes leaves in one writev.
const SMALL = 4096;
// Bytes the socket may buffer before write() asks us to wait for 'drain': more than a window, so
// that a response within its window is written without waiting.
const HIGH_WATER_MARK = 1 << 20;
// Version 1 only: request body bytes buffered per request before we stop reading the socket, so
// that a slow handler slows the gateway down instead of filling memory. (Version 2 bounds each
// request by its window and never stops reading.)
const BUFFER_LIMIT = 1 << 20;
const SKIPPED_HEADERS = new Set(['content-length', 'transfer-encoding']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
const EMPTY = Buffer.alloc(0);
const ACK = Buffer.from('cancelled');

class RequestReset extends Error {
  constructor() {
    super('the gateway cancelled this request');
    this.name = 'RequestReset';
  }
}

class ProtocolError extends Error {}

class Request {
  constructor(exchange, method, target, headers, ended, deadline) {
    this.id = exchange.id;
    this.method = method;
    this.target = target;
    const q = target.indexOf('?');
    this.path = q < 0 ? target : target.slice(0, q);
    this.query = q < 0 ? null : target.slice(q + 1);
    this.headers = headers;
    /** performance.now() value after which the gateway answers 504 itself; null: no deadline. */
    this.deadline = deadline;
    this._exchange = exchange;
    this._chunks = [];
    this._buffered = 0;
    this._ended = ended;
    this._cancelled = false;
    this._discarding = false;
    this._waiter = null;
    this._all = null;
  }

  /** Whole milliseconds until the deadline (0 once passed); Infinity without a deadline. */
  remainingMs() {
    if (this.deadline === null) return Infinity;
    return Math.max(0, Math.floor(this.deadline - performance.now()));
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
        return parts.length === 1 ? parts[0] : Buffer.concat(parts);
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
      if (!isBytes(chunk)) { // a piece in a gateway slot: read out, then released
        return Promise.resolve(this._exchange.conn.shm.take(chunk.slot, chunk.length));
      }
      this._buffered -= chunk.length;
      this._exchange.conn.consumed(this._exchange, chunk.length);
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

  /** Body bytes from the gateway: one frame's payload, in the pieces the socket delivered. */
  _push(parts, end) {
    if (!this._discarding && !this._cancelled) {
      for (const part of parts) {
        if (part.length > 0) {
          this._chunks.push(part);
          this._buffered += part.length;
        }
      }
    }
    this._ended = this._ended || end;
    this._wake();
  }

  /** An SHM_BODY: the piece stays in the gateway's slot until the handler takes it. */
  _pushSlot(slot, length, end) {
    if (!this._discarding && !this._cancelled) this._chunks.push({ slot, length });
    else this._exchange.conn.shm.release(slot);
    this._ended = this._ended || end;
    this._wake();
  }

  _drop() {
    for (const chunk of this._chunks) if (!isBytes(chunk)) this._exchange.conn.shm.release(chunk.slot);
    this._chunks = [];
    this._buffered = 0;
  }

  _cancel() {
    this._cancelled = true;
    this._drop();
    this._wake();
  }

  _discard() {
    this._discarding = true;
    this._drop();
  }
}

/** One request's state on the connection: windows, and which final frame it gets. */
class Exchange {
  constructor(conn, id, window) {
    this.conn = conn;
    this.id = id;
    this.req = null;
    this.reset = false; // cancelled by the gateway
    this.final = false; // our final frame (END_STREAM or RESET) went out
    this.headSent = false;
    this.sendWindow = window;
    this.recvWindow = window;
    this.unacked = 0; // body bytes the handler consumed that were not credited yet
    this.windowWaiter = null; // resolves when CREDIT or RESET arrives
    this.slot = null; // [slot, generation] of our last piece in shared memory
  }

  wakeWriter() {
    const waiter = this.windowWaiter;
    this.windowWaiter = null;
    if (waiter) waiter();
  }
}

// -- shared memory --------------------------------------------------------------------------------

/**
 * The segment, read and written through a descriptor with positional I/O (Node cannot map it),
 * and both sides' slot states (docs/protocol.md section 8.4). Slot numbers are the protocol's.
 */
class SharedSlots {
  constructor(conn, path, threshold) {
    this.conn = conn;
    this.fd = fs.openSync(path, 'r+');
    try {
      const size = fs.fstatSync(this.fd).size;
      const h = Buffer.alloc(20);
      fs.readSync(this.fd, h, 0, 20, 0);
      const [magic, layout, offset, slotSize] = [0, 4, 8, 12].map((at) => h.readUInt32BE(at));
      const gatewaySlots = h.readUInt16BE(16), childSlots = h.readUInt16BE(18);
      if (magic !== SHM_MAGIC || layout !== 1 || offset % 4096 || slotSize % 4096 || slotSize < MIN_WINDOW ||
          !gatewaySlots || !childSlots || size !== offset + (gatewaySlots + childSlots) * slotSize) {
        throw new Error(`segment header does not match (magic ${magic}, layout ${layout}, size ${size})`);
      }
      Object.assign(this, { offset, slotSize, firstChild: gatewaySlots, threshold: Math.max(1, threshold) });
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
    this.held = new Array(this.firstChild).fill(false); // the gateway's slots we have not released
    this.gatewayGen = new Array(this.firstChild).fill(0);
    const childSlots = (fs.fstatSync(this.fd).size - this.offset) / this.slotSize - this.firstChild;
    this.sent = new Array(childSlots).fill(false); // our slots the gateway has not released
    this.gen = new Array(childSlots).fill(0);
    this.waiters = []; // resolve when one of our slots is released
  }

  /** Checks an SHM_BODY against the gateway slot's state; held from now on. */
  arrived(slot, zero, generation, length) {
    if (slot >= this.firstChild || zero) throw new ProtocolError(`SHM_BODY names slot ${slot}, not one of the gateway's`);
    if (this.held[slot] || generation !== this.gatewayGen[slot]) {
      throw new ProtocolError(`SHM_BODY for slot ${slot} generation ${generation}: held ${this.held[slot]}, expected ${this.gatewayGen[slot]}`);
    }
    if (length < 1 || length > this.slotSize) throw new ProtocolError(`SHM_BODY length ${length} outside 1..${this.slotSize}`);
    this.held[slot] = true;
  }

  /** A held gateway slot's bytes, copied out; the slot is released. */
  take(slot, length) {
    const out = Buffer.allocUnsafe(length);
    fs.readSync(this.fd, out, 0, length, this.offset + slot * this.slotSize);
    this.release(slot);
    return out;
  }

  release(slot) {
    const generation = this.gatewayGen[slot];
    this.held[slot] = false;
    this.gatewayGen[slot] = (generation + 1) % 0x100000000;
    const payload = Buffer.alloc(8);
    payload.writeUInt16BE(slot, 0);
    payload.writeUInt32BE(generation, 4);
    this.conn.write([[SHM_RELEASE, 0, payload]], 0);
  }

  /** One of our free slots, marked sent (its doorbell follows), or null. */
  acquire() {
    const i = this.sent.indexOf(false);
    if (i < 0) return null;
    this.sent[i] = true;
    return this.firstChild + i;
  }

  /** Writes a piece into an acquired slot; the SHM_BODY payload that names it. */
  fill(slot, data) {
    fs.writeSync(this.fd, data, 0, data.length, this.offset + slot * this.slotSize);
    const payload = Buffer.alloc(12);
    payload.writeUInt16BE(slot, 0);
    payload.writeUInt32BE(this.gen[slot - this.firstChild], 4);
    payload.writeUInt32BE(data.length, 8);
    return payload;
  }

  unfill(slot) {
    this.sent[slot - this.firstChild] = false;
  }

  /** Whether [slot, generation] is not released yet (released: the generation moved on). */
  inFlight([slot, generation]) {
    return this.gen[slot - this.firstChild] === generation;
  }

  /** Checks the gateway's SHM_RELEASE; the slot is free from now on. */
  released(slot, zero, generation) {
    const i = slot - this.firstChild;
    if (i < 0 || i >= this.sent.length || zero) throw new ProtocolError(`SHM_RELEASE names slot ${slot}, not one of ours`);
    if (!this.sent[i] || generation !== this.gen[i]) {
      throw new ProtocolError(`SHM_RELEASE for slot ${slot} generation ${generation}: sent ${this.sent[i]}, at ${this.gen[i]}`);
    }
    this.sent[i] = false;
    this.gen[i] = (generation + 1) % 0x100000000;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function offeredCapabilities() {
  const bits = parseInt(process.env.LOCAL_LAMBDAS_CAPABILITIES || '0', 16);
  return Number.isNaN(bits) ? 0 : bits & CAP_SHM;
}

// -- encoding -------------------------------------------------------------------------------------

function header(type, flags, id, length) {
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h.writeUInt32BE(length, 0);
  h[4] = type;
  h[5] = flags;
  h.writeUInt32BE(id, 6);
  return h;
}

function u32(value) {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value, 0);
  return b;
}

function sized(value, width) {
  const data = Buffer.from(value, 'utf8');
  const size = Buffer.alloc(width);
  if (width === 2) size.writeUInt16BE(data.length); else size.writeUInt32BE(data.length);
  return Buffer.concat([size, data]);
}

/** The RESPONSE_HEAD payload, built in one buffer. */
function encodeHead(status, pairs) {
  let size = 4;
  for (const [name, value] of pairs) size += 6 + Buffer.byteLength(name) + Buffer.byteLength(value);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(status, 0);
  out.writeUInt16BE(pairs.length, 2);
  let pos = 4;
  for (const [name, value] of pairs) {
    const n = out.write(name, pos + 2);
    out.writeUInt16BE(n, pos);
    pos += 2 + n;
    const v = out.write(value, pos + 4);
    out.writeUInt32BE(v, pos);
    pos += 4 + v;
  }
  return out;
}

function decodeRequestHead(payload, version) {
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
    const deadlineMs = version >= 2 ? payload.readUInt32BE(pos) : 0;
    return { method, target, headers, deadlineMs };
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
      if (!TOKEN.test(name) || BAD_VALUE.test(text)) {
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
const toBuffer = (piece) => (typeof piece === 'string' ? Buffer.from(piece, 'utf8')
  : isBytes(piece) ? Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength) : Buffer.from(piece));

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
    body = EMPTY;
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

/** Stops a streamed body the SDK will not read to its end (runs a generator's finally). */
async function close(body) {
  try {
    if (typeof body.destroy === 'function') body.destroy();
    else if (typeof body.return === 'function') await body.return();
  } catch (ignored) {
    // it is being abandoned anyway
  }
}

// -- connection -----------------------------------------------------------------------------------

class Connection {
  constructor(handler) {
    this.handler = handler;
    this.socket = null;
    this.pending = []; // socket reads not parsed yet, in order (never concatenated)
    this.pendingLength = 0;
    this.header = null;
    this.welcomed = false;
    this.version = 1;
    this.types = TYPES[1];
    this.window = 0;
    this.requests = new Map();
    this.inFlight = 0;
    this.terminating = false;
    this.paused = false;
    this.drained = null;
    this.corked = false;
    this.maxPayload = 1 << 20;
    this.chunk = CHUNK;
    this.shm = null;
    this.offered = offeredCapabilities();
  }

  connect(address) {
    this.socket = net.createConnection({ path: address, writableHighWaterMark: HIGH_WATER_MARK });
    this.socket.on('connect', () => {
      const hello = Buffer.alloc(8);
      hello.writeUInt16BE(MIN_VERSION, 0);
      hello.writeUInt16BE(MAX_VERSION, 2);
      hello.writeUInt32BE(process.pid, 4);
      const parts = [hello, sized(SDK_NAME, 2)];
      if (this.offered) parts.push(u32(this.offered)); // only when the gateway said it accepts it
      this.write([[HELLO, 0, Buffer.concat(parts)]], 0);
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

  /** Writes [type, flags, payload] frames of one stream; false when the socket wants a drain. */
  write(frames, id) {
    let size = 0;
    for (const [, , payload] of frames) size += payload.length;
    const socket = this.socket;
    if (!this.corked) { // everything written until the end of this tick goes out in one writev
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    if (size <= SMALL) { // one small buffer is cheaper than several buffers
      const out = Buffer.allocUnsafe(frames.length * HEADER_SIZE + size);
      let pos = 0;
      for (const [type, flags, payload] of frames) {
        out.writeUInt32BE(payload.length, pos);
        out[pos + 4] = type;
        out[pos + 5] = flags;
        out.writeUInt32BE(id, pos + 6);
        pos += HEADER_SIZE + payload.copy(out, pos + HEADER_SIZE);
      }
      return socket.write(out);
    }
    for (const [type, flags, payload] of frames) { // headers and payloads as they are
      socket.write(header(type, flags, id, payload.length));
      if (payload.length) socket.write(payload);
    }
    return !socket.writableNeedDrain;
  }

  drain() {
    this.drained = this.drained || new Promise((resolve) => this.socket.once('drain', () => {
      this.drained = null;
      resolve();
    }));
    return this.drained;
  }

  /** n bytes from the front of the pending reads, copied only if they span several. */
  take(n) {
    const head = this.pending[0];
    if (head.length >= n) {
      if (head.length === n) this.pending.shift(); else this.pending[0] = head.subarray(n);
      this.pendingLength -= n;
      return head.subarray(0, n);
    }
    return Buffer.concat(this.takeParts(n), n);
  }

  /** n bytes from the front of the pending reads as a list of pieces, never copied. */
  takeParts(n) {
    const parts = [];
    while (n > 0) {
      const head = this.pending[0];
      if (head.length <= n) {
        parts.push(head);
        this.pending.shift();
      } else {
        parts.push(head.subarray(0, n));
        this.pending[0] = head.subarray(n);
      }
      const used = Math.min(head.length, n);
      n -= used;
      this.pendingLength -= used;
    }
    return parts;
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
        if (!this.types.has(this.header.type) || (this.header.flags & ~END_STREAM) !== 0) {
          throw new ProtocolError(`bad frame type ${this.header.type} or flags ${this.header.flags}`);
        }
      }
      if (this.pendingLength < this.header.length) return;
      const { type, flags, id, length } = this.header;
      this.header = null;
      const end = (flags & END_STREAM) !== 0;
      if (type === REQUEST_BODY && this.welcomed) {
        this.onBody(id, end, length, this.takeParts(length));
      } else {
        this.onFrame(type, end, id, length ? this.take(length) : EMPTY);
      }
    }
  }

  onBody(id, end, length, parts) {
    // A request we already finished (or that was reset) may still get body frames.
    const exchange = this.requests.get(id);
    if (!exchange) return;
    if (this.version >= 2) {
      if (length > exchange.recvWindow) {
        throw new ProtocolError(`REQUEST_BODY of ${length} bytes on stream ${id} exceeds its window of ${exchange.recvWindow}`);
      }
      exchange.recvWindow -= length;
    }
    exchange.req._push(parts, end);
    if (this.version < 2) this.flow();
  }

  onFrame(type, end, id, payload) {
    if (!this.welcomed) {
      this.welcome(type, payload);
    } else if (type === REQUEST_HEAD) {
      if (id === 0 || this.requests.has(id)) throw new ProtocolError(`REQUEST_HEAD for stream ${id} that is 0 or in use`);
      const { method, target, headers, deadlineMs } = decodeRequestHead(payload, this.version);
      const exchange = new Exchange(this, id, this.window);
      exchange.req = new Request(exchange, method, target, headers, end,
        deadlineMs ? performance.now() + deadlineMs : null);
      if (this.terminating) { // its body frames, if any, are ignored as for an unknown id
        this.respond(exchange, { status: 503, headers: { 'content-type': 'text/plain' }, body: 'shutting down\n' })
          .catch(() => {});
        return;
      }
      this.requests.set(id, exchange);
      this.inFlight++;
      this.run(exchange);
    } else if (type === CREDIT) {
      if (id === 0 || payload.length !== 4) throw new ProtocolError(`CREDIT on stream 0 or with ${payload.length} bytes`);
      const increment = payload.readUInt32BE(0);
      if (increment === 0 || increment > MAX_WINDOW) throw new ProtocolError(`CREDIT increment ${increment} on stream ${id}`);
      const exchange = this.requests.get(id); // none: it crossed the end of the request
      if (exchange) {
        if (exchange.sendWindow + increment > MAX_WINDOW) throw new ProtocolError(`CREDIT grows the window of stream ${id} past 2^31-1`);
        exchange.sendWindow += increment;
        exchange.wakeWriter();
      }
    } else if (type === SHM_BODY && id !== 0 && payload.length === 12) {
      const slot = payload.readUInt16BE(0), length = payload.readUInt32BE(8);
      this.shm.arrived(slot, payload.readUInt16BE(2), payload.readUInt32BE(4), length);
      const exchange = this.requests.get(id);
      if (exchange) exchange.req._pushSlot(slot, length, end);
      else this.shm.release(slot); // late: given back at once
    } else if (type === SHM_RELEASE && id === 0 && payload.length === 8) {
      this.shm.released(payload.readUInt16BE(0), payload.readUInt16BE(2), payload.readUInt32BE(4));
    } else if (type === RESET && id !== 0) {
      const exchange = this.requests.get(id); // none: it crossed our final frame, ignored
      if (exchange) {
        this.requests.delete(id);
        exchange.reset = true;
        exchange.req._cancel();
        exchange.wakeWriter();
        if (this.shm) { // a writer waiting for a slot's release rechecks and sees the reset
          const waiters = this.shm.waiters;
          this.shm.waiters = [];
          for (const wake of waiters) wake();
        }
        if (this.version < 2) this.flow();
      }
    } else {
      throw new ProtocolError(`unexpected frame type ${type} on stream ${id}`);
    }
  }

  welcome(type, payload) {
    let segment = null, threshold = 0;
    if (type === RESET) throw new ProtocolError(`the gateway refused us: ${payload.toString('utf8')}`);
    if (type !== WELCOME) throw new ProtocolError(`expected WELCOME, got frame type ${type}`);
    try {
      const version = payload.readUInt16BE(0);
      this.maxPayload = payload.readUInt32BE(4);
      const fields = 10 + payload.readUInt16BE(8); // after the function id
      if (version === 2) {
        const window = payload.readUInt32BE(fields);
        const capabilities = payload.readUInt32BE(fields + 4);
        if (capabilities & ~this.offered) throw new ProtocolError(`WELCOME accepted capabilities ${capabilities} we did not offer`);
        let end = fields + 8;
        if (capabilities & CAP_SHM) {
          const n = payload.readUInt16BE(end);
          if (end + 2 + n + 4 > payload.length) throw new ProtocolError('WELCOME segment runs past its end');
          segment = payload.toString('utf8', end + 2, end + 2 + n);
          threshold = payload.readUInt32BE(end + 2 + n);
          end += 2 + n + 4;
        }
        if (payload.length !== end) throw new ProtocolError(`${payload.length - end} unexpected bytes after the WELCOME fields`);
        if (window < MIN_WINDOW || window > MAX_WINDOW) throw new ProtocolError(`WELCOME window ${window} is outside ${MIN_WINDOW}..${MAX_WINDOW}`);
        this.window = window;
      } else if (version !== 1) {
        throw new ProtocolError(`unsupported version ${version}`);
      }
      this.version = version;
      this.types = TYPES[version];
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      throw new ProtocolError(`malformed WELCOME: ${e.message}`);
    }
    this.chunk = Math.max(1, Math.min(CHUNK, this.maxPayload));
    this.welcomed = true;
    if (segment !== null) this.attach(segment, threshold);
  }

  /** Opens the segment before anything else is read and says so: SHM_ATTACH (section 8.1). */
  attach(segment, threshold) {
    let attach = u32(0);
    try {
      this.shm = new SharedSlots(this, segment, threshold);
      this.types = new Set([...this.types, SHM_BODY, SHM_RELEASE]);
    } catch (e) {
      process.stderr.write(`local_lambdas: shared memory unavailable, using frames: ${e.message}\n`);
      attach = Buffer.concat([u32(1), Buffer.from(String(e.message).slice(0, 512))]);
    }
    this.write([[SHM_ATTACH, 0, attach]], 0);
  }

  /** The handler consumed n body bytes: CREDIT them once half a window is due (version 2). */
  consumed(exchange, n) {
    if (this.version < 2) {
      this.flow();
      return;
    }
    if (exchange.req._ended || exchange.final || exchange.reset) return; // nothing more to come
    exchange.unacked += n;
    if (exchange.unacked >= this.window / 2) {
      const increment = exchange.unacked;
      exchange.unacked = 0;
      exchange.recvWindow += increment; // before the CREDIT leaves, so what it allows always fits
      this.write([[CREDIT, 0, u32(increment)]], exchange.id);
    }
  }

  /** Version 1: stops reading the socket while some request has too much unread body. */
  flow() {
    let full = false;
    for (const { req } of this.requests.values()) full = full || req._buffered >= BUFFER_LIMIT;
    if (full !== this.paused) {
      this.paused = full;
      if (full) this.socket.pause(); else this.socket.resume();
    }
  }

  /** Sends frames of one request, unless it was cancelled meanwhile (then RequestReset). */
  async emit(exchange, frames, final) {
    if (exchange.reset) {
      for (const [type, , payload] of frames) if (type === SHM_BODY) this.shm.unfill(payload.readUInt16BE(0));
      throw new RequestReset();
    }
    if (final) {
      exchange.final = true;
      this.forget(exchange); // the gateway may reuse the id as soon as the frame arrives
    }
    if (!this.write(frames, exchange.id)) await this.drain();
  }

  /**
   * The head (unless null), then data as RESPONSE_BODY frames of at most one chunk and what the
   * window allows, waiting for CREDIT when it is exhausted; END_STREAM on the last frame.
   */
  async send(exchange, head, data, end) {
    let frames = [];
    if (head !== null) {
      exchange.headSent = true;
      frames.push([RESPONSE_HEAD, end && data.length === 0 ? END_STREAM : 0, head]);
    } else if (end && data.length === 0) {
      frames.push([RESPONSE_BODY, END_STREAM, EMPTY]); // costs no window
    }
    let pos = 0;
    const shm = this.shm;
    while (pos < data.length) {
      if (shm !== null && data.length - pos >= shm.threshold) {
        if (exchange.slot !== null && shm.inFlight(exchange.slot)) { // one slot in flight per request
          if (frames.length) { // the doorbell must be out before its release can come
            await this.emit(exchange, frames, false);
            frames = [];
          }
          await new Promise((resolve) => shm.waiters.push(resolve));
          if (exchange.reset) throw new RequestReset();
          continue;
        }
        const slot = shm.acquire();
        if (slot !== null) { // else no slot is free: this piece goes in frames
          const n = Math.min(shm.slotSize, data.length - pos);
          const last = end && pos + n === data.length;
          const doorbell = shm.fill(slot, data.subarray(pos, pos + n));
          frames.push([SHM_BODY, last ? END_STREAM : 0, doorbell]);
          exchange.slot = [slot, doorbell.readUInt32BE(4)];
          pos += n;
          continue;
        }
      }
      let n = Math.min(this.chunk, data.length - pos);
      if (this.version >= 2) {
        if (exchange.reset) throw new RequestReset();
        if (exchange.sendWindow === 0) {
          if (frames.length) { // what is queued must reach the gateway before it can grant more
            await this.emit(exchange, frames, false);
            frames = [];
          }
          await new Promise((resolve) => { exchange.windowWaiter = resolve; });
          continue;
        }
        n = Math.min(n, exchange.sendWindow);
        exchange.sendWindow -= n;
      }
      const last = end && pos + n === data.length;
      frames.push([RESPONSE_BODY, last ? END_STREAM : 0, data.subarray(pos, pos + n)]);
      pos += n;
    }
    if (frames.length) await this.emit(exchange, frames, end);
  }

  async respond(exchange, result) {
    const { status, pairs, body } = normalize(result);
    const head = encodeHead(status, pairs);
    if (isBytes(body)) {
      await this.send(exchange, head, body, true);
      return;
    }
    try {
      await this.send(exchange, head, EMPTY, false);
    } catch (e) {
      await close(body);
      throw e;
    }
    for await (const piece of body) { // leaving the loop early closes the iterator
      await this.send(exchange, null, toBuffer(piece), false);
    }
    await this.send(exchange, null, EMPTY, true);
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
            await this.emit(exchange, [[RESET, 0, Buffer.from(`handler threw ${name}`)]], true);
          } else {
            await this.respond(exchange, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' },
              body: `500 Internal Server Error: handler threw ${name}\n` });
          }
        } catch (ignored) {
          // reset meanwhile, or the connection is gone ('close' ends the process)
        }
      }
    } finally {
      exchange.req._discard();
      this.forget(exchange);
      if (exchange.reset && !exchange.final && this.version >= 2) {
        this.write([[RESET, 0, ACK]], exchange.id); // the acknowledgement: we no longer work on it
      }
      exchange.final = true;
      if (this.version < 2) this.flow();
      this.inFlight--;
      if (this.terminating && this.inFlight === 0) this.leave();
    }
  }

  forget(exchange) {
    if (this.requests.get(exchange.id) === exchange) this.requests.delete(exchange.id);
  }

  terminate() {
    this.terminating = true;
    if (this.inFlight === 0) this.leave();
  }

  /**
   * After SIGTERM, with nothing in flight: exits once what was written has left, since the last
   * answer may still be corked (until the end of this tick) or queued in the socket.
   */
  leave() {
    this.socket.end(() => process.exit(0));
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
