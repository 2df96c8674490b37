// E2E against the built app (npm run build first; `npm test` does). System Chromium:
// the sandbox cannot download browsers. One worker keeps the suite light on 2 cores.
import { defineConfig } from "@playwright/test";

// E2E_PORT lets a second checkout run its suite beside a developer's own server.
const PORT = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  outputDir: "test-results",
  use: {
    baseURL: `http://localhost:${PORT}/`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  projects: [
    { name: "chromium-light", use: { browserName: "chromium", viewport: { width: 1400, height: 900 }, colorScheme: "light" } },
  ],
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}/`,
    // CI must test its own build, never a server left running from another tree.
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
