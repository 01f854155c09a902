// How long the deployments page takes to show its list: BASE_URL=… LAST=<name of the last row> RUNS=5 node e2e/render.mjs
// Each run opens a fresh page at /deployments and waits until the last deployment's row is in the page; prints JSON.
import { chromium } from "playwright-core";

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
const runs = [];
for (let i = 0; i < Number(process.env.RUNS ?? 5); i++) {
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${process.env.BASE_URL}/deployments`);
  await page.getByRole("link", { name: process.env.LAST, exact: true }).waitFor({ state: "attached", timeout: 60000 });
  runs.push(Date.now() - started);
  const rows = await page.locator("tbody tr").count();
  if (i === 0) console.error(`rows rendered: ${rows}`);
  await page.close();
}
await browser.close();
runs.sort((a, b) => a - b);
console.log(JSON.stringify({ runsMs: runs, medianMs: runs[Math.floor(runs.length / 2)] }));
