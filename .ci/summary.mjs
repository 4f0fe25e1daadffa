// Reads vitest's JSON report and prints the one summary line CI is judged by:
//   N passed, N failed, N skipped
// Exits 1 when the report counts any failed test or failed file (a file that crashed before its tests
// ran counts as a failure), when the run did not succeed, or when there is no report at all.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.tmp/vitest-report.json';
if (!existsSync(file)) {
  console.error(`no vitest report at ${file}: the test run did not finish`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failedTests = report.numFailedTests ?? 0;
const failedFiles = report.numFailedTestSuites ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// A file that failed to load has no failed test but is a failed suite: count it once as a failure.
const failed = failedTests + (failedTests === 0 && failedFiles > 0 ? failedFiles : 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || report.success === false ? 1 : 0);
