// Takes the README's picture of the editor (docs/img/editor.png): the cart reminder
// on the canvas after a simulation, against a real `trellis serve` with the example
// flows, in Debian's chromium. Run by hand after a visible change to the editor:
//   cd editor-web && node e2e/docs-screenshot.mjs [out.png]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, startServer } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const repo = path.resolve(root, '..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'docs/img/editor.png'));
const trellis = process.env.TRELLIS_BIN ?? path.join(repo, 'build/app/trellis');

const server = await startServer({ trellis, flowsDir: path.join(repo, 'flows'), editorDir: path.join(root, 'dist') });
const { page, close } = await openBrowser();
try {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`${server.base}/#/flows/cart_reminder`);
  await page.locator('.react-flow__node[data-id="wait_pay"]').waitFor();
  await page.locator('.tabs').getByRole('button', { name: 'Simulate' }).click();
  await page.locator('#sim-coupons').fill('SPRING20: C-001, C-002');
  await page.getByRole('button', { name: 'Run simulation' }).click();
  await page.getByTestId('sim-result').waitFor({ timeout: 10000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await close();
  await server.stop();
}
