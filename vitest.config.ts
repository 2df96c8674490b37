import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["engine/**/*.test.ts", "ui/**/*.test.ts"],
    testTimeout: 120000,
    pool: "threads",
  },
});
