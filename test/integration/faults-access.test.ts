/**
 * Fault suite, access: a real `likeness serve` process, a real Chromium, a second local web server, real
 * symbolic links. The cookie a browser hands to any other port of 127.0.0.1 grants no API call; /media
 * serves only decoded photos still inside their folder; system folders cannot join the library.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { launchChromium } from '../e2e/browser';
import { startServeChild } from '../helpers/child-process';
import { makePhoto, tempDir } from '../helpers/images';

test('another local server receives the cookie and cannot call the API with it', async () => {
  const s = await startServeChild(tempDir());
  const seen: string[] = [];
  const other = http.createServer((req, res) => {
    seen.push(req.headers.cookie ?? '');
    res.end('another local app');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${s.url}?token=${s.token}`);
    // Cookies ignore ports: the browser sends ours to the other server.
    await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
    const match = new RegExp(`likeness_media_\\d+=([\\w-]+)`).exec(seen.join(';'));
    assert.ok(match, `the other server received the cookie (${seen.join(' | ')})`);
    const stolen = match[1];
    assert.notEqual(stolen, s.token, 'the cookie is not the API token');

    const call = (headers: Record<string, string>) =>
      fetch(`${s.url}api/listFolders`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: '{}',
      });
    assert.equal((await call({ Authorization: `Bearer ${stolen}` })).status, 401);
    assert.equal((await call({ Cookie: match[0] })).status, 401);
    const session = await fetch(`${s.url}session`, { headers: { Cookie: match[0] } });
    const body = await session.text();
    assert.ok(!body.includes(s.token), `/session does not reveal the token: ${body}`);
    // The token itself still works, and the server is up.
    assert.equal((await call({ Authorization: `Bearer ${s.token}` })).status, 200);
  } finally {
    await browser.close();
    other.close();
    await s.stop();
  }
});

test('/media serves only decoded photos whose real path is inside their library folder', async () => {
  const root = tempDir('likeness-faults-links-');
  const lib = path.join(root, 'library');
  const outside = path.join(root, 'outside');
  await makePhoto(path.join(lib, 'a.jpg'), 1);
  await makePhoto(path.join(lib, 'b.jpg'), 2);
  await makePhoto(path.join(outside, 'secret.jpg'), 3);
  await makePhoto(path.join(outside, 'linked', 'c.jpg'), 4);
  fs.writeFileSync(path.join(outside, 'notes.txt'), 'not a photo');
  fs.symlinkSync(path.join(outside, 'notes.txt'), path.join(lib, 'link.jpg'));
  fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(lib, 'secret.jpg'));
  fs.symlinkSync(path.join(outside, 'linked'), path.join(lib, 'linked')); // a linked subfolder

  const s = await startServeChild(tempDir());
  try {
    assert.equal((await s.api('addFolder', { path: lib })).status, 200);
    await s.child.line(/^done /m);
    const byName = new Map<string, { id: number; status: string }>();
    for (let id = 1; id <= 5; id++) {
      const p = (await s.api('getPhoto', { photoId: id })).body as { name: string; status: string };
      byName.set(p.name, { id, status: p.status });
    }
    assert.equal(byName.get('link.jpg')?.status, 'failed');
    assert.equal(await s.media('full', byName.get('link.jpg')!.id), 404, 'a .jpg link to a text file');
    assert.equal(await s.media('thumb', byName.get('link.jpg')!.id), 404);
    assert.equal(byName.get('secret.jpg')?.status, 'indexed');
    assert.equal(await s.media('full', byName.get('secret.jpg')!.id), 404, 'a link to a file outside');
    assert.equal(await s.media('full', byName.get('a.jpg')!.id), 200);
    assert.equal(await s.media('full', byName.get('c.jpg')!.id), 200, 'a photo in a linked subfolder');

    // A photo swapped for a link to elsewhere after indexing is no longer served.
    fs.rmSync(path.join(lib, 'b.jpg'));
    fs.symlinkSync(path.join(outside, 'notes.txt'), path.join(lib, 'b.jpg'));
    assert.equal(await s.media('full', byName.get('b.jpg')!.id), 404);
    assert.equal((await s.api('status')).status, 200, 'the server is up');
  } finally {
    await s.stop();
  }
});

test('addFolder refuses /proc/self and other system folders, and asks before the disk root', async () => {
  const s = await startServeChild(tempDir());
  try {
    for (const dir of ['/proc/self', '/proc/self/root', '/sys', '/dev']) {
      const r = await s.api('addFolder', { path: dir });
      assert.equal(r.status, 400, `${dir}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error!.message, /system folder/);
    }
    const root = await s.api('addFolder', { path: '/' });
    assert.equal(root.status, 409);
    assert.equal(root.body.error!.code, 'confirmation_required');
    assert.match(root.body.error!.message, /root of the whole disk/);
    assert.deepEqual((await s.api('listFolders')).body.folders, []);
    assert.equal((await s.api('status')).status, 200, 'the server is up');
  } finally {
    await s.stop();
  }
});
