import { preview, build } from 'vite';
import { chromium } from 'playwright-core';
await build({ configFile: 'e2e/crash-page/vite.config.ts', logLevel: 'silent' });
const server = await preview({ configFile: 'e2e/crash-page/vite.config.ts', logLevel: 'warn', preview: { host: '127.0.0.1', port: 0 } });
const port = server.httpServer.address().port;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage();
page.on('pageerror', (m) => console.log('pageerror', m.message)); page.on('console', (m) => console.log('console', m.text().slice(0, 60)));
await page.goto(`http://127.0.0.1:${port}/`);
await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
let b = 1;
for (const storage of ['opfs']) {
  for (let i = 0; i < 6; i++) {
    let t = Date.now();
    const c = await page.evaluate(([s]) => window.crash.open(s, 'dbg5-' + s), [storage]);
    const open = Date.now() - t;
    await page.evaluate(([f]) => window.crash.start(f, 20, 7), [b]); b += 20;
    await page.waitForTimeout(150);
    const acks = (await page.evaluate(() => window.crash.kill())).length;
    console.log(storage, 'open', open, 'present', c.length, 'acked in 150ms', acks);
  }
}
await browser.close(); await server.close();
