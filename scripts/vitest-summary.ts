import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line that CI logs can be read by: `N passed, N failed, N skipped` for runtime
 * tests, then the type tests (*.test-d.ts, run by the type checker) on their own, so they never count as runtime
 * passes. Skipped tests are named by file after the counts (`skipped: apps/dashboard/test/dashboard.test.ts 18`),
 * so a suite that could not run here (no Chromium, no MySQL: each says why in a line of its own) is not missed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const runtime = { passed: 0, failed: 0, skipped: 0 };
    const types = { passed: 0, failed: 0, skipped: 0 };
    const skippedIn: string[] = [];
    for (const module of modules) {
      const counts = module.moduleId.endsWith('.test-d.ts') ? types : runtime;
      let skipped = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed') counts[state]++;
        else skipped++;
      }
      counts.skipped += skipped;
      if (skipped > 0) skippedIn.push(`${relative(process.cwd(), module.moduleId)} ${skipped}`);
    }
    const line = (c: typeof runtime) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
    const where = skippedIn.length > 0 ? ` (skipped: ${skippedIn.join(', ')})` : '';
    console.log(`${line(runtime)}; type tests: ${line(types)}${where}`);
  }
}
