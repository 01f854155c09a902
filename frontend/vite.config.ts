import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The API's types and client: the repository's @airunway/shared package (packages/shared), by path.
const shared = decodeURIComponent(new URL("../packages/shared/src", import.meta.url).pathname);

// The build goes into the Python package, which serves it at / (with the SPA fallback) next to /api.
export default defineConfig({
  plugins: [react()],
  resolve: { alias: [{ find: /^@airunway\/shared(\/.*)?$/, replacement: `${shared}$1` }] },
  build: {
    outDir: "../src/airunway/server/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:3001", timeout: 600_000, proxyTimeout: 600_000 } },
  },
});
