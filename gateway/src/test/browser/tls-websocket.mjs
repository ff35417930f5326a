// A browser on the gateway's HTTPS port (headless Chromium, Debian's, driven by playwright-core),
// as a developer with `serve --tls-self-signed` and a dev server's live reload would use it. Run by
// BrowserTlsTest against a gateway with a local certificate and the websocket_echo.py function on
// /ws/* (<upgrade>websocket</upgrade>):
//   node tls-websocket.mjs BASE_URL CHROMIUM_PATH
// Checks that the page arrives over HTTP/2 (ALPN h2) and that a WebSocket from that page to the
// same origin (wss://) opens and echoes a message: the gateway does not offer WebSockets over
// HTTP/2 (RFC 8441), so the browser must open it over HTTP/1.1 by itself. Exits 0 on success, 1
// with a message otherwise.
import { chromium } from "playwright-core";

const [base, executablePath] = process.argv.slice(2);
const STEP = { timeout: 20000 };
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let step = "open the page over HTTPS";
try {
  // The certificate is the gateway's local one; trusting its CA in a throw-away profile is what
  // docs/tls.md tells a user to do, ignoring errors is the same here.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const response = await page.goto(base + "/ws/page", STEP);
  if (response.status() !== 200) throw new Error("the page answered " + response.status());
  const protocol = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
  if (protocol !== "h2") throw new Error("the page came over " + protocol + ", not h2");

  step = "a WebSocket from the page echoes a message";
  const wsUrl = base.replace(/^https:/, "wss:") + "/ws";
  const echoed = await page.evaluate(url => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error("no echo within 15 s")), 15000);
    ws.onopen = () => ws.send("hello over wss");
    ws.onmessage = e => { clearTimeout(timer); ws.close(1000, "done"); resolve(e.data); };
    ws.onerror = () => { clearTimeout(timer); reject(new Error("the WebSocket failed to open")); };
  }), wsUrl);
  if (echoed !== "hello over wss") throw new Error("the echo was " + JSON.stringify(echoed));
  console.log("tls-websocket: page over " + protocol + ", WebSocket echoed");
} catch (e) {
  console.error("tls-websocket: step '" + step + "' failed: " + (e && e.stack || e));
  await browser.close();
  process.exit(1);
}
await browser.close();
