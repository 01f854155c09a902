import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes into the Python package, which serves it at / (with the SPA fallback) next to /api.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../src/airunway/server/static",
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:3001", timeout: 600_000, proxyTimeout: 600_000 } },
  },
});
