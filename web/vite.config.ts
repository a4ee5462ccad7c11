// Build of the console: a static bundle in dist/ that the gateway serves at "/".
// Hashed file names under /assets/ (cached for a year by the gateway); no inline script, so the gateway's
// Content-Security-Policy (script-src 'self') holds; no source maps shipped.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // Keep every asset a file (no data: inlining of scripts); images may still be data: URIs (img-src data:).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
  server: {
    // `npm run dev` proxies the API to a gateway started by `make demo`.
    proxy: { "/v1": { target: "http://127.0.0.1:8000", ws: true } },
  },
});
