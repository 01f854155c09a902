// End-to-end run of the web UI in Debian's Chromium (headless), against a real `airunway dashboard`.
//   BASE_URL=http://127.0.0.1:3001 [LOGIN_URL=…] NAMESPACE=ns SCREENSHOTS=dir node e2e/run.mjs
// Browses the catalog, checks that an invalid deploy form shows its messages and sends nothing, deploys a model,
// follows it to Running, reads its detail (logs, metrics, manifest), deletes it, and visits every page; each page is
// screenshotted and checked with axe-core (no serious or critical violations). Prints what failed; exit code 1 then.
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const BASE = process.env.BASE_URL;
const NAMESPACE = process.env.NAMESPACE ?? "default";
const SHOTS = process.env.SCREENSHOTS ?? "test-artifacts/screenshots";
const MODEL = "Qwen/Qwen3-0.6B";
const NAME = `e2e-qwen-${Date.now().toString(36).slice(-4)}`;
mkdirSync(SHOTS, { recursive: true });

const failures = [];
const timings = {};
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, bypassCSP: true });
await context.addInitScript(() => { window.__E2E_TEST__ = true; });
const page = await context.newPage();
const posts = [];
page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/api/deployments")) posts.push(r.url()); });
page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failures.push(`${name}: ${e.message.split("\n")[0]}`);
    console.log(`FAIL ${name}: ${e.message}`);
    await page.screenshot({ path: `${SHOTS}/failed-${name.replace(/\W+/g, "-")}.png`, fullPage: true }).catch(() => {});
  }
}

async function check(name, target = page) {
  await target.evaluate(() => window.scrollTo(0, 0));
  await target.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  await target.addScriptTag({ content: AXE });
  const found = await target.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  });
  for (const v of found) failures.push(`axe on ${name}: ${v}`);
}

const text = (t, options = {}) => page.getByText(t, options).first().waitFor({ timeout: options.timeout ?? 15000 });

await step("catalog", async () => {
  await page.goto(BASE + "/");
  await page.getByRole("heading", { name: "Model Catalog" }).waitFor();
  await text(/\d+ of \d+ models/);
  await page.getByRole("article", { name: "Qwen3 0.6B" }).waitFor();
  await page.getByPlaceholder("Search models...").fill("gemma");
  await text("3 of 18 models");
  await page.getByPlaceholder("Search models...").fill("");
  await check("01-catalog");
});

await step("header: connection, cluster name and navigation icons", async () => {
  await page.getByTestId("header-connection").getByText("Connected").waitFor();
  const cluster = await page.getByTestId("cluster-name").textContent();
  if (cluster !== "airunway-sandbox") throw new Error(`the header names the cluster "${cluster}"`);
  const icons = await page.locator(".nav a svg.icon").count();
  if (icons !== 3) throw new Error(`${icons} navigation icons, expected 3`);
});

await step("huggingface search", async () => {
  await page.getByRole("tab", { name: "HuggingFace Hub" }).click();
  await text("Enter at least 2 characters to search HuggingFace models");
  await page.getByPlaceholder(/Search HuggingFace models/).fill("qwen");
  await text(/Showing \d+ of \d+ compatible models/, { timeout: 20000 });
  await check("02-catalog-huggingface");
});

await step("automatic provider choice explains itself", async () => {
  await page.goto(`${BASE}/deploy/${encodeURIComponent(MODEL)}`);
  await page.getByRole("radio", { name: /^Automatic/ }).click();
  await text(/The controller would choose|No provider would be chosen/, { timeout: 20000 });
  await check("03a-deploy-automatic");
});

await step("KAITO GGUF form", async () => {
  await page.goto(`${BASE}/deploy/${encodeURIComponent("Qwen/Qwen3-8B-GGUF")}?source=hf`);
  await page.getByRole("heading", { name: "Deploy Model" }).waitFor();
  await page.getByRole("radio", { name: /^KAITO/ }).click();
  await page.getByRole("radiogroup", { name: "Run Mode" }).waitFor();
  await page.getByLabel("GGUF File").waitFor();
  const file = await page.getByLabel("GGUF File").inputValue();
  if (file !== "Qwen3-8B-Q4_K_M.gguf") throw new Error(`the Q4_K_M file is not preselected: ${file}`);
  // KAITO mounts no storage volumes (its runtime entry says so), so the form offers none.
  if (await page.getByRole("button", { name: /Add Volume/ }).count()) throw new Error("the KAITO form offers storage volumes");
  await page.getByRole("radio", { name: /Build Image/ }).check();
  await text("Pre-builds container image. Requires Docker running locally.");
  await check("03b-deploy-kaito-gguf");
});

await step("model larger than a node: fit, GPU choices, capacity and multi-node", async () => {
  await page.goto(`${BASE}/deploy/${encodeURIComponent("acme/giant-405b")}?source=hf`);
  await page.getByRole("heading", { name: "Deploy Model" }).waitFor();
  await page.getByRole("radio", { name: /Direct vLLM/ }).click();
  await page.getByTestId("does-not-fit").filter({ hasText: "no room for the KV cache" }).waitFor({ timeout: 20000 });
  await page.getByRole("button", { name: "2 GPUs" }).click();
  if ((await page.getByLabel("GPUs per Replica").inputValue()) !== "2") throw new Error("the suggested GPU count was not applied");
  await page.getByLabel("GPUs per Replica").fill("4");
  await page.getByLabel("Worker Replicas").fill("3");
  const warning = page.getByTestId("capacity-warning");
  await warning.filter({ hasText: "Insufficient GPU capacity" }).waitFor();
  await warning.filter({ hasText: "4 GPUs × 3 replicas = 12 total GPUs" }).waitFor();
  await warning.filter({ hasText: "gpupool: 2 nodes, 8/8 GPUs available" }).waitFor();
  await warning.getByRole("link", { name: /Learn how to enable autoscaling/ }).waitFor();
  await page.getByLabel("Worker Replicas").fill("1");
  await page.getByRole("radio", { name: /^Dynamo/ }).click();
  await page.getByTestId("multinode-banner").filter({ hasText: "3 nodes of 4 GPUs" }).waitFor();
  await page.getByTestId("multinode-chip").filter({ hasText: "3 nodes × 4 GPUs = 12 total" }).waitFor();
  if ((await page.getByLabel("Nodes per Replica").inputValue()) !== "3") throw new Error("the node count is not the recommended 3");
  await warning.filter({ hasText: "3 nodes × 4 GPUs × 1 replica = 12 total GPUs" }).waitFor();
  await page.locator("summary", { hasText: "Manifest Preview" }).click();
  await page.locator("pre").filter({ hasText: /tensor-parallel-size: "4"\s+pipeline-parallel-size: "3"/ }).waitFor();
  await page.locator("pre").filter({ hasText: /multinode:\s+nodeCount: 3/ }).waitFor();
  await check("03c-deploy-larger-than-a-node");
});

await step("AI Configurator tunes the Dynamo form", async () => {
  await page.goto(`${BASE}/deploy/${encodeURIComponent("Qwen/Qwen3-8B")}`);
  await page.getByRole("radio", { name: /^Dynamo/ }).click();
  const panel = page.getByRole("region", { name: /AI Configurator/ });
  await panel.getByRole("radio", { name: /Latency/ }).check();
  await panel.getByText(/Click Optimize to analyze your model \(Qwen\/Qwen3-8B\) with 8 available GPUs/).waitFor();
  await panel.getByRole("button", { name: "Optimize" }).click();
  await panel.getByText("Optimal configuration found for Qwen/Qwen3-8B").waitFor({ timeout: 60000 });
  for (const [label, value] of [["Tensor Parallelism", "2 GPUs"], ["Max Context", "4,500 tokens"], ["Batch Size", "32"], ["Latency P50", "121 ms"]]) {
    await panel.locator(".tile", { has: page.getByText(label, { exact: true }) }).filter({ hasText: value }).waitFor();
  }
  await check("03d-deploy-ai-configurator");
  await panel.getByRole("button", { name: "Apply Configuration" }).click();
  await text("AI Configurator recommendations applied. TP=2, Context=4500, Engine=TRTLLM");
  if ((await page.getByLabel("GPUs per Replica").inputValue()) !== "2") throw new Error("tensor parallelism not applied");
  if ((await page.getByLabel("Worker Replicas").inputValue()) !== "4") throw new Error("replicas not applied");
  await page.getByText("Optimized", { exact: true }).waitFor();
  if (!(await page.getByRole("radio", { name: "TensorRT-LLM" }).isChecked())) throw new Error("the engine is not TensorRT-LLM");
  if (!(await page.getByLabel("Engine arguments").inputValue()).includes("max-num-seqs=64")) throw new Error("the tuned arguments are missing");
});

await step("KAITO premade model on CPU or GPU", async () => {
  await page.goto(`${BASE}/deploy/${encodeURIComponent("kaito/llama3.2-1b")}`);
  await page.getByRole("radio", { name: /^KAITO/ }).click();
  if ((await page.getByLabel("Premade Model").inputValue()) !== "llama3.2:1b") throw new Error("the premade model is not matched");
  await page.getByRole("radiogroup", { name: "Compute Type" }).getByRole("radio", { name: "GPU" }).check();
  await page.getByLabel("GPUs per Replica").waitFor();
  await page.getByRole("radiogroup", { name: "Compute Type" }).getByRole("radio", { name: "CPU" }).check();
  await page.getByLabel("Premade Model").selectOption("llama3.2:3b");
  if (!(await page.getByLabel("Deployment Name").inputValue()).startsWith("llama3-2-3b-")) throw new Error("the deployment is not renamed");
  await page.locator("summary", { hasText: "Manifest Preview" }).click();
  await page.locator("pre").filter({ hasText: /id: kaito\/llama3.2-3b/ }).waitFor();
  await check("03e-deploy-kaito-premade");
});

await step("invalid deploy form sends nothing", async () => {
  await page.goto(`${BASE}/deploy/${encodeURIComponent(MODEL)}`);
  await page.getByRole("heading", { name: "Deploy Model" }).waitFor();
  await page.getByRole("radio", { name: /Direct vLLM/ }).click();
  await page.getByLabel("Deployment Name").fill("Bad_Name!");
  await page.getByRole("radio", { name: /^Launch image/ }).click();
  await page.getByLabel("Model Weights Precision").selectOption("fp8");
  await text("This cluster's GPU (A100-80GB) can't run FP8", { timeout: 20000 });
  await page.getByRole("button", { name: "FP8 Not Supported on This GPU" }).waitFor();
  await page.getByLabel("Model Weights Precision").selectOption("default");
  await page.getByRole("button", { name: /Add Volume/ }).click();
  await page.getByLabel("Name", { exact: true }).fill("Bad Name");
  await page.getByLabel(/^Container Path/).fill("/proc/cache");
  await page.getByRole("button", { name: /Deploy Model/ }).click();
  await page.getByRole("alert").filter({ hasText: "Must be lowercase letters, numbers, and hyphens" }).first().waitFor();
  await page.getByRole("alert").filter({ hasText: 'System path "/proc/cache" is not allowed' }).first().waitFor();
  await page.getByRole("alert").filter({ hasText: "Lowercase letters, numbers, and hyphens only" }).first().waitFor();
  await page.getByRole("alert").filter({ hasText: "Enter a vLLM launch image before applying a recipe or deploying." }).first().waitFor();
  await page.waitForTimeout(500);
  if (posts.length) throw new Error(`the invalid form sent ${posts.length} request(s)`);
  await check("03-deploy-invalid");
});

await step("deploy", async () => {
  await page.getByRole("button", { name: "Remove volume Bad Name" }).click();
  await page.getByLabel("Deployment Name").fill(NAME);
  await page.getByLabel("Namespace").fill(NAMESPACE);
  await page.getByRole("radio", { name: /^Nightly/ }).click();
  // A Gateway routes models in this cluster: this one opts out (spec.gateway.enabled: false).
  await page.getByRole("switch", { name: "Gateway routing" }).uncheck();
  await text("This model will not be routed through the Gateway");
  await page.getByText("Official vLLM recipe found").waitFor({ timeout: 20000 });
  await page.getByRole("button", { name: "Apply recipe" }).click();
  await text("Recipe applied to the deployment form");
  if (!(await page.getByLabel("Engine arguments").inputValue()).includes("max-model-len=8192")) throw new Error("the recipe's arguments are not in the form");
  await page.locator("summary", { hasText: "Manifest Preview" }).click();
  await text("ModelDeployment/" + NAME);
  await page.locator("pre").filter({ hasText: /gateway:\s+enabled: false/ }).waitFor();
  await check("04-deploy-valid");
  await page.getByRole("button", { name: /Deploy Model/ }).click();
  await text("Deployment Created");
  await page.waitForURL("**/deployments", { timeout: 15000 });
  if (posts.length !== 1) throw new Error(`expected one create request, saw ${posts.length}`);
});

await step("deployments list", async () => {
  await page.getByRole("link", { name: NAME, exact: true }).waitFor();
  await text("Status refreshes automatically every 10 seconds");
  await check("05-deployments");
});

await step("detail reaches Running", async () => {
  await page.getByRole("link", { name: NAME, exact: true }).click();
  await page.getByRole("heading", { name: NAME }).waitFor();
  const started = Date.now();
  await page.locator(".tile .value", { hasText: "Running" }).first().waitFor({ timeout: 180000 });
  timings.runningAfterMs = Date.now() - started;
});

await step("detail logs, metrics and manifest", async () => {
  await page.getByRole("heading", { name: "Logs" }).waitFor();
  await text("this container is simulated", { timeout: 30000 });
  await text(/Showing logs from instance/);
  await page.getByRole("heading", { name: "Metrics" }).waitFor();
  await text("Running requests", { timeout: 60000 });
  await page.locator("svg.chart").first().waitFor();
  await page.getByRole("heading", { name: "Manifest" }).waitFor();
  await text(`ModelDeployment/${NAME}`);
  await page.getByRole("heading", { name: "Chat with model" }).waitFor();
  await page.getByLabel("Message").fill("Say hello");
  await page.getByLabel("Message").press("Enter");
  await page.getByTestId("chat-transcript").getByText("Assistant").waitFor();
  await page.waitForFunction(() => {
    const bubbles = document.querySelectorAll(".bubble.assistant");
    const last = bubbles[bubbles.length - 1];
    return last && !last.textContent.includes("Thinking…") && last.textContent.length > "Assistant".length;
  }, null, { timeout: 30000 });
  await check("06-deployment-detail");
});

await step("log timestamps toggle", async () => {
  const asked = page.waitForRequest((r) => r.url().includes("/logs?") && r.url().includes("timestamps=false"));
  await page.getByRole("button", { name: "Timestamps" }).click();
  await asked;
  if ((await page.getByRole("button", { name: "Timestamps" }).getAttribute("aria-pressed")) !== "false") throw new Error("the toggle is not off");
  await page.getByRole("button", { name: "Timestamps" }).click();
});

await step("delete", async () => {
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("dialog", { name: "Delete Deployment" }).waitFor();
  await check("07-delete-dialog");
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await text("Deployment Deleted");
  await page.waitForURL("**/deployments", { timeout: 15000 });
  await page.getByRole("link", { name: NAME, exact: true }).waitFor({ state: "detached", timeout: 60000 });
});

// Two more deployments made through the API: one with storage volumes whose server exports Ray Serve's metrics, one
// exporting SGLang's (the metrics stand-in answers by deployment name).
const suffix = Date.now().toString(36).slice(-4);
const RAY = `e2e-ray-${suffix}`, SGLANG = `e2e-sglang-${suffix}`;
const send = (method, path, body) => page.evaluate(async ([method, path, body]) => {
  const r = await fetch(path, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}, [method, path, body]);

await step("storage volumes and Ray Serve metrics", async () => {
  const base = { namespace: NAMESPACE, modelId: MODEL, engine: "vllm", provider: "vllm", modelSource: "vllm",
    imageRef: "vllm/vllm-openai:latest", resources: { gpu: 1 } };
  for (const body of [
    { ...base, name: RAY, storage: { volumes: [{ name: "cache", purpose: "modelCache", size: "10Gi", accessMode: "ReadWriteOnce" },
      { name: "shared", purpose: "custom", mountPath: "/data", claimName: "shared-weights", readOnly: true }] } },
    { ...base, name: SGLANG }]) {
    const answer = await send("POST", "/api/deployments", body);
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`creating ${body.name}: ${answer.status} ${answer.text}`);
  }
  await page.goto(`${BASE}/deployments/${RAY}?namespace=${NAMESPACE}`);
  const storage = page.getByRole("region", { name: /^Storage/ });
  await storage.getByRole("listitem", { name: "Volume cache" }).filter({ hasText: "Model Cache" }).filter({ hasText: "Path: /model-cache" })
    .filter({ hasText: "Single node read/write" })
    .filter({ hasText: `New disk · 10Gi · default storage type · ${RAY}-cache` }).waitFor();
  await storage.getByRole("listitem", { name: "Volume shared" }).filter({ hasText: "Read Only" }).filter({ hasText: "Path: /data" })
    .filter({ hasText: "Existing disk · shared-weights" }).waitFor();
  const metrics = page.getByRole("region", { name: "Metrics" });
  for (const [label, value] of [["Processing queries", "3"], ["Queued queries", "4"], ["Processing latency (avg)", "250 ms"], ["Requests", "20"], ["Errors", "3"]]) {
    await metrics.locator(".tile", { has: page.getByText(label, { exact: true }) }).filter({ hasText: value }).waitFor({ timeout: 30000 });
  }
  await check("06b-deployment-storage-ray-metrics");
});

await step("SGLang metrics", async () => {
  await page.goto(`${BASE}/deployments/${SGLANG}?namespace=${NAMESPACE}`);
  const metrics = page.getByRole("region", { name: "Metrics" });
  for (const [label, value] of [["Running requests", "5"], ["Waiting requests", "7"], ["KV cache usage", "25%"], ["Time to first token (avg)", "150 ms"]]) {
    await metrics.locator(".tile", { has: page.getByText(label, { exact: true }) }).filter({ hasText: value }).waitFor({ timeout: 30000 });
  }
  for (const name of [RAY, SGLANG]) await send("DELETE", `/api/deployments/${name}?namespace=${NAMESPACE}`);
});

for (const [tab, shot, expect] of [["", "08-settings-general", "Cluster Status"], ["runtimes", "09-settings-runtimes", "Available Runtimes"],
  ["integrations", "10-settings-integrations", "NVIDIA GPU Operator"]]) {
  await step(`settings ${tab || "general"}`, async () => {
    await page.goto(`${BASE}/settings${tab ? `?tab=${tab}` : ""}`);
    await page.getByRole("heading", { name: expect }).waitFor();
    if (tab === "runtimes") {
      const guidance = page.getByRole("note", { name: "Autoscaling guidance" });
      await guidance.filter({ hasText: "Autoscaling Not Detected" }).waitFor();
      await guidance.getByRole("link", { name: /Setup Guide \(AKS\)/ }).waitFor();
      if ((await page.getByTestId("autoscaler-node-pools").textContent()) !== "0") throw new Error("the node-pool count is not 0");
    }
    if (tab === "integrations") {
      await page.locator("summary", { hasText: "Manual Installation" }).nth(1).click();
      const commands = page.getByLabel("Gateway CRD install commands");
      await commands.locator("pre", { hasText: /kubectl apply --server-side -f https:\/\/github.com\/kubernetes-sigs\/gateway-api\/releases\/download\/v[\d.]+\/standard-install.yaml/ }).waitFor();
      await commands.locator("pre", { hasText: /gateway-api-inference-extension\/releases\/download\/v[\d.]+\/manifests.yaml/ }).waitFor();
    }
    await page.waitForTimeout(500);
    await check(shot);
  });
}

await step("HuggingFace sign-in through the Hub", async () => {
  await page.goto(`${BASE}/settings?tab=integrations`);
  await page.getByRole("button", { name: /Sign in with Hugging Face/ }).click();
  await page.waitForURL("**/oauth/callback/huggingface?**", { timeout: 15000 });
  await text("Connected Successfully", { timeout: 20000 });
  await page.waitForURL("**/settings**", { timeout: 15000 });
  const hf = page.getByRole("region", { name: "HuggingFace Token" });
  await hf.getByText("Sandbox User").waitFor({ timeout: 15000 });
  await hf.getByText("@sandbox-user").waitFor();
  await check("10b-settings-huggingface-connected");
  await hf.getByRole("button", { name: "Disconnect HuggingFace" }).click();
  await hf.getByRole("button", { name: /Sign in with Hugging Face/ }).waitFor({ timeout: 15000 });
});

await step("unknown deployment", async () => {
  await page.goto(`${BASE}/deployments/nothing-here?namespace=${NAMESPACE}`);
  await text("Deployment not found");
  await check("11-deployment-not-found");
});

await step("dark theme", async () => {
  await page.goto(BASE + "/");
  await page.getByRole("button", { name: /Switch to (dark|light) theme/ }).click();
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  if (theme !== "dark") await page.getByRole("button", { name: /Switch to dark theme/ }).click();
  await page.getByRole("article", { name: "Qwen3 0.6B" }).waitFor();
  await check("12-catalog-dark");
  await page.goto(`${BASE}/settings?tab=runtimes`);
  await page.getByRole("heading", { name: "Available Runtimes" }).waitFor();
  await check("13-settings-runtimes-dark");
});

await step("laptop-narrow and phone widths", async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(BASE + "/deployments");
  await page.getByRole("heading", { name: "Deployments" }).waitFor();
  await page.getByRole("button", { name: "Toggle navigation menu" }).click();
  await page.getByRole("link", { name: "Settings" }).waitFor();
  await page.screenshot({ path: `${SHOTS}/14-phone-menu.png` });
  await page.keyboard.press("Escape");
  await page.setViewportSize({ width: 1366, height: 860 });
});

if (process.env.LOGIN_URL) {
  await step("login", async () => {
    const login = await context.newPage();
    await login.goto(process.env.LOGIN_URL + "/deployments");
    await login.getByText("Authentication Required").waitFor();
    await login.getByText("airunway login").waitFor();
    await login.getByRole("button", { name: "Paste Token" }).click();
    await check("15-login", login);
    await login.close();
  });
}

await browser.close();
console.log(JSON.stringify({ failures, timings }));
process.exit(failures.length ? 1 : 0);
