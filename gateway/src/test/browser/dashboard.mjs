// Drives the dashboard in headless Chromium (Debian's chromium, driven by playwright-core; no
// browser download). Run by DashboardBrowserTest against a gateway serving the cue function with
// min_instances 1:
//   node dashboard.mjs BASE_URL SCREENSHOT_DIR CHROMIUM_PATH
// Checks that a request made with curl shows up live (with its request id), that a crashed
// instance shows as restarting, and that the restart button replaces the instance. Saves a
// screenshot after each step (and one on failure). Exits 0 on success, 1 with a message otherwise.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots, executablePath] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const STEP = { timeout: 20000 };

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // As root in a container Chromium needs --no-sandbox; the rest keeps it off the network.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const shot = name => page.screenshot({ path: join(shots, name + ".png"), fullPage: true });
const curl = (...args) => execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", ...args]).toString();
let step = "open the dashboard";
try {
  await page.goto(base + "/.local-lambdas/");
  const card = page.locator('[data-function="cue"]');
  await card.waitFor(STEP);
  await card.locator('tr[data-state="ready"]').first().waitFor(STEP);
  await shot("1-loaded");

  step = "a request made with curl shows up live";
  const code = curl("-H", "X-Request-Id: dashboard-test-1", base + "/cue/hello");
  if (code !== "200") throw new Error("curl /cue/hello answered " + code);
  await card.locator('tr[data-request-id="dashboard-test-1"]').waitFor(STEP);
  await page.waitForFunction(
    () => Number(document.querySelector('[data-function="cue"] [data-field="total"]').textContent) >= 1,
    null, STEP);
  await shot("2-request-shown");

  step = "a crashed instance shows as restarting";
  curl(base + "/cue/crash");
  await card.locator('[data-field="events"]', { hasText: "crashed" }).waitFor(STEP);
  await card.locator('[data-field="status"]', { hasText: "restarting" }).waitFor(STEP);
  await shot("3-crashed-restarting");

  step = "the restart button replaces the instance";
  const ready = card.locator('tr[data-state="ready"]').first();
  await ready.waitFor(STEP);
  const pid = await ready.getAttribute("data-pid");
  await card.locator('button[data-action="restart"]').click();
  await page.waitForFunction(old => {
    const rows = [...document.querySelectorAll('[data-function="cue"] tr[data-instance]')];
    return rows.length > 0 && rows.every(r => r.dataset.pid !== old && r.dataset.state === "ready");
  }, pid, STEP);
  await shot("4-restarted");
  console.log("dashboard: all steps passed");
} catch (e) {
  console.error("dashboard: failed to " + step + ": " + e.message);
  await shot("failure").catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
