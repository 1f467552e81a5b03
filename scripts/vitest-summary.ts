import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line that CI logs can be read by: `N passed, N failed, N skipped` for runtime
 * tests, then the type tests (*.test-d.ts, run by the type checker) on their own, so they never count as runtime passes.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const runtime = { passed: 0, failed: 0, skipped: 0 };
    const types = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      const counts = module.moduleId.endsWith('.test-d.ts') ? types : runtime;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed') counts[state]++;
        else counts.skipped++;
      }
    }
    const line = (c: typeof runtime) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
    console.log(`${line(runtime)}; type tests: ${line(types)}`);
  }
}
