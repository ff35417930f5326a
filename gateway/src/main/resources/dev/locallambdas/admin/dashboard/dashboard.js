// The local-lambdas dashboard: polls the admin API once a second and redraws. Rates and latency
// percentiles are computed here from the counters and histogram buckets of two polls ~10 s apart,
// the way Prometheus' rate() and histogram_quantile() would. Everything a child wrote is shown as
// text (textContent), never as HTML.
"use strict";

const API = "/.local-lambdas/";
const WINDOW_MS = 10000;
const history = new Map(); // function id -> [{t, total, errors, cumulative}]
const rates = new Map(); // function id -> last 60 req/s values (the sparkline)

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function ms(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  return v < 1 ? v.toFixed(2) + " ms" : v < 100 ? v.toFixed(1) + " ms" : Math.round(v) + " ms";
}

function ago(at) {
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 60 ? s + "s ago" : Math.round(s / 60) + "m ago";
}

// The q-quantile of the observations between two cumulative bucket snapshots, in ms.
function quantile(q, bounds, now, then) {
  const counts = now.map((c, i) => c - (then ? then[i] : 0));
  const total = counts[counts.length - 1];
  if (!total) return null;
  const rank = q * total;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] >= rank) {
      const upper = bounds[i] === null ? bounds[i - 1] : bounds[i];
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : counts[i - 1];
      const inBucket = counts[i] - below;
      const frac = inBucket ? (rank - below) / inBucket : 1;
      return (lower + (upper - lower) * frac) * 1000;
    }
  }
  return null;
}

function live(f) {
  const now = Date.now();
  const sample = {
    t: now,
    total: f.requests ? f.requests.total : 0,
    errors: f.requests ? f.requests["5xx"] : 0,
    cumulative: f.latency ? f.latency.cumulative : [],
  };
  const samples = history.get(f.id) || [];
  samples.push(sample);
  while (samples.length > 2 && now - samples[1].t >= WINDOW_MS) samples.shift();
  history.set(f.id, samples);
  const old = samples[0];
  const prev = samples.length > 1 ? samples[samples.length - 2] : null;
  const rps = prev ? ((sample.total - prev.total) * 1000) / Math.max(1, sample.t - prev.t) : 0;
  const r = rates.get(f.id) || [];
  r.push(rps);
  if (r.length > 60) r.shift();
  rates.set(f.id, r);
  const span = sample.total - old.total;
  const base = old === sample ? null : old.cumulative;
  const bounds = f.latency ? f.latency.bounds : [];
  return {
    rps,
    p50: span > 0 ? quantile(0.5, bounds, sample.cumulative, base) : null,
    p99: span > 0 ? quantile(0.99, bounds, sample.cumulative, base) : null,
    errorRate: span > 0 ? (sample.errors - old.errors) / span : null,
  };
}

async function act(id, action, button) {
  button.disabled = true;
  try {
    const url = action === "purge" ? API + "cache/purge?function=" + encodeURIComponent(id)
                                   : API + "functions/" + encodeURIComponent(id) + "/" + action;
    const res = await fetch(url, { method: "POST" });
    if (!res.ok) showError(action + " " + id + ": " + (await res.text()));
  } finally {
    button.disabled = false;
    poll();
  }
}

function showError(text) {
  const e = document.getElementById("error");
  e.textContent = text;
  e.hidden = !text;
}

function status(f) {
  const lastEvent = f.events && f.events.length ? f.events[f.events.length - 1] : null;
  const recentCrash = (f.events || []).some(e => e.what.startsWith("crashed") && Date.now() - e.at < 15000);
  if (f.reloadFailure) return h("span", { class: "badge bad", "data-field": "status", title: f.reloadFailure }, f.reloadFailure.length > 120 ? f.reloadFailure.slice(0, 117) + "..." : f.reloadFailure);
  if (f.drained) return h("span", { class: "badge warn", "data-field": "status" }, "drained");
  if (f.backoffRemainingMs > 0) return h("span", { class: "badge bad", "data-field": "status" }, "crash loop: retry in " + Math.ceil(f.backoffRemainingMs / 1000) + "s");
  if (recentCrash) return h("span", { class: "badge bad", "data-field": "status" }, "crashed · restarting");
  if (f.instances.some(i => i.state === "starting")) return h("span", { class: "badge warn", "data-field": "status" }, "starting");
  if (f.instances.some(i => i.state === "ready")) return h("span", { class: "badge ok", "data-field": "status" }, "ready");
  return h("span", { class: "badge", "data-field": "status", title: lastEvent ? lastEvent.what : "" }, "idle (starts on demand)");
}

function stat(label, value, field) {
  return h("div", { class: "stat" }, h("b", { "data-field": field }, value), h("span", {}, label));
}

function card(f) {
  const l = live(f);
  const cache = f.cache ? f.cache.hits / Math.max(1, f.cache.hits + f.cache.misses) : null;
  const errors = l.errorRate === null ? "–" : (l.errorRate * 100).toFixed(1) + "%";
  const spark = (rates.get(f.id) || []);
  const max = Math.max(1, ...spark);
  const cold = f.coldStarts || { count: 0 };
  const last = cold.last;
  const total = last ? last.spawnMs + last.readyMs + (last.firstResponseMs || 0) : 0;
  const pct = v => (total ? (100 * v) / total : 0) + "%";
  const buttons = [
    h("button", { "data-action": "restart", onclick: e => act(f.id, "restart", e.target) }, "Restart"),
    h("button", { "data-action": "stop", onclick: e => act(f.id, "stop", e.target) }, "Stop"),
    f.drained ? h("button", { "data-action": "start", onclick: e => act(f.id, "start", e.target) }, "Start")
              : h("button", { "data-action": "drain", onclick: e => act(f.id, "drain", e.target) }, "Drain"),
    f.cache ? h("button", { "data-action": "purge", onclick: e => act(f.id, "purge", e.target) }, "Purge cache") : null,
  ];
  return h("section", { class: "card", "data-function": f.id },
    h("div", { class: "title" },
      h("h2", {}, f.id), h("span", { class: "badge" }, f.protocol), status(f),
      h("span", { class: "muted" }, f.routes.join(" ")),
      h("span", { class: "actions" }, buttons)),
    h("div", { class: "stats" },
      stat("req/s", l.rps.toFixed(l.rps < 10 ? 1 : 0), "rps"),
      stat("p50", ms(l.p50), "p50"),
      stat("p99", ms(l.p99), "p99"),
      stat("errors (5xx)", errors, "errors"),
      stat("requests", f.requests ? f.requests.total : 0, "total"),
      stat("queue / in flight", f.queueLength + " / " + f.inFlight, "queue"),
      stat("cache hits", cache === null ? "off" : (cache * 100).toFixed(0) + "%", "cache")),
    h("div", { class: "spark", title: "requests per second, last minute" },
      spark.map(v => h("i", { style: "height:" + Math.round((100 * v) / max) + "%" }))),
    h("h3", {}, "cold starts: " + cold.count + (cold.failures ? " (" + cold.failures + " failed)" : "")),
    last ? h("div", { "data-field": "coldstart" },
      h("div", { class: "split" },
        h("div", { class: "spawn", style: "width:" + pct(last.spawnMs) }),
        h("div", { class: "ready", style: "width:" + pct(last.readyMs) }),
        h("div", { class: "first", style: "width:" + pct(last.firstResponseMs || 0) })),
      h("span", { class: "muted" }, last.instance + ": spawn " + ms(last.spawnMs) + " · ready " + ms(last.readyMs)
        + " · first response " + ms(last.firstResponseMs) + " · " + ago(last.at))) : h("span", { class: "muted" }, "none yet"),
    h("h3", {}, "instances"),
    f.instances.length === 0 ? h("span", { class: "muted" }, "none running") :
    h("table", {},
      h("tr", {}, h("th", {}, "instance"), h("th", {}, "pid"), h("th", {}, "state"), h("th", {}, "in flight"), h("th", {}, "served"), h("th", {}, "output")),
      f.instances.map(i => h("tr", { "data-instance": i.label, "data-state": i.state, "data-pid": i.pid },
        h("td", {}, i.label), h("td", { class: "num" }, i.pid), h("td", {}, h("span", { class: "badge " + (i.state === "ready" ? "ok" : "warn") }, i.state)),
        h("td", { class: "num" }, i.inFlight), h("td", { class: "num" }, i.served),
        h("td", {}, i.output.length ? h("details", {}, h("summary", {}, i.output.length + " lines"), h("pre", {}, i.output.join("\n"))) : "–")))),
    h("h3", {}, "recent requests"),
    (f.recentRequests || []).length === 0 ? h("span", { class: "muted" }, "none yet") :
    h("table", { "data-field": "requests" },
      h("tr", {}, h("th", {}, "request id"), h("th", {}, "method"), h("th", {}, "path"), h("th", {}, "status"), h("th", {}, "time"), h("th", {}, "instance"), h("th", {}, "when")),
      f.recentRequests.slice(0, 8).map(r => h("tr", { "data-request-id": r.id },
        h("td", {}, r.id), h("td", {}, r.method), h("td", {}, r.path),
        h("td", { class: "s" + Math.floor(r.status / 100) }, r.status || "gone"),
        h("td", { class: "num" }, ms(r.ms)), h("td", {}, r.instance), h("td", { class: "muted" }, ago(r.at))))),
    h("h3", {}, "events"),
    h("ul", { class: "events", "data-field": "events" },
      (f.events || []).slice(-6).reverse().map(e => h("li", {},
        h("span", { class: "muted" }, ago(e.at) + " "), e.instance + " " + e.what,
        e.lines.length ? h("pre", {}, e.lines.join("\n")) : null))));
}

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  const liveEl = document.getElementById("live");
  try {
    const res = await fetch(API + "functions", { cache: "no-store" });
    if (!res.ok) throw new Error("GET functions: HTTP " + res.status);
    const body = await res.json();
    // Keep open <details> open across redraws.
    const open = new Set([...document.querySelectorAll("details[open]")].map(d => d.closest("tr").dataset.instance));
    document.getElementById("functions").replaceChildren(...body.functions.map(card));
    for (const id of open) {
      const d = document.querySelector('tr[data-instance="' + CSS.escape(id) + '"] details');
      if (d) d.open = true;
    }
    liveEl.textContent = "live";
    liveEl.className = "live on";
  } catch (e) {
    liveEl.textContent = "gateway unreachable";
    liveEl.className = "live off";
  } finally {
    polling = false;
  }
}

async function gateway() {
  try {
    const g = await (await fetch(API + "gateway", { cache: "no-store" })).json();
    const up = g.uptimeSeconds < 3600 ? Math.round(g.uptimeSeconds / 60) + " min" : (g.uptimeSeconds / 3600).toFixed(1) + " h";
    document.getElementById("gateway").textContent = "v" + g.version + " · pid " + g.pid + " · up " + up
      + (g.manifest ? " · " + g.manifest.path : "");
  } catch (e) { /* the functions poll shows the gateway is unreachable */ }
}

poll();
gateway();
setInterval(poll, 1000);
setInterval(gateway, 10000);
