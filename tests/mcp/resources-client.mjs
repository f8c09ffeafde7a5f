// The official MCP TypeScript SDK clients against /mcp's resources
// (docs/mcp.md, "Resources"): list the templates, list the resources
// (every page), read each kind of resource and compare it with the HTTP GET
// it stands for, read URIs that name nothing, complete a key, and watch a
// document (resources/subscribe in a session, subscriptions/listen in
// 2026-07-28). Prints one line per check
// and exits 1 when any failed.
//   node resources-client.mjs URL TOKEN WHICH NAMESPACE KEY QUEUE TABLE
//   WHICH: sdk        the 1.x SDK (@modelcontextprotocol/sdk): a 2025-11-25 session
//          v2         the 2.x client, negotiating ('auto'): 2026-07-28, no session
//          v2-session the 2.x client's default: a 2025-11-25 session
import assert from 'node:assert/strict';

const [url, token, which, ns, key, queue, table] = process.argv.slice(2);
const v2 = which.startsWith('v2');
const stateless = which === 'v2';
const { Client, StreamableHTTPClientTransport } = v2
  ? await import('@modelcontextprotocol/client')
  : {
    ...(await import('@modelcontextprotocol/sdk/client/index.js')),
    ...(await import('@modelcontextprotocol/sdk/client/streamableHttp.js')),
  };
const expectedVersion = stateless ? '2026-07-28' : '2025-11-25';
const client = new Client({ name: 'backend-resources-test', version: '1.0.0' },
  stateless ? { versionNegotiation: { mode: 'auto' } } : undefined);
const headers = { Authorization: `Bearer ${token}` };
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const base = url.replace(/\/mcp$/, '');
let failed = 0;
const check = async (name, fn) => {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message}`);
  }
};

// get(path): the HTTP route's answer, as curl would see it.
const get = async (path) => {
  const r = await fetch(base + path, { headers });
  assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
  return r.json();
};
// The queue's counts hold the age of its oldest item, which grows between
// the two reads: compared without it.
const steady = (v) => {
  delete v.oldest_ready_age_seconds;
  return v;
};
// same(uri, path): reading uri gives one JSON item holding what GET path gives.
const same = async (uri, path) => {
  const r = await client.readResource({ uri });
  assert.equal(r.contents.length, 1);
  const [item] = r.contents;
  assert.equal(item.uri, uri);
  assert.equal(item.mimeType, 'application/json');
  assert.deepEqual(steady(JSON.parse(item.text)), steady(await get(path)));
};
// unknown(uri, error): reading uri is the revision's unknown-resource error.
// The 2.x client reports -32002 (what a session-era server sends; the curl
// tests check the wire) as -32602, the 2026-07-28 code, in both eras.
const unknownCode = v2 ? -32602 : -32002;
const unknown = async (uri, error) => {
  const code = unknownCode;
  await assert.rejects(client.readResource({ uri }), (e) => {
    assert.equal(e.code, code, `${e.code} ${e.message}`);
    assert.equal(e.data?.uri, uri, JSON.stringify(e.data));
    // (the 2.x client, mapping a session's -32002, keeps only data.uri)
    if (error && which !== 'v2-session') assert.equal(e.data.error, error, JSON.stringify(e.data));
    return true;
  });
};

await client.connect(transport);
await check(`the protocol version settled on is ${expectedVersion}`, async () => {
  const v = v2 ? client.getNegotiatedProtocolVersion() : transport.protocolVersion;
  console.log(`# ${which}: protocol version ${v}, session ${transport.sessionId ?? 'none'}`);
  assert.equal(v, expectedVersion);
  assert.ok(client.getServerCapabilities().resources, 'the resources capability');
});
await check('resources/templates/list: the six templates, each with a title, a description and application/json', async () => {
  const r = await client.listResourceTemplates();
  assert.deepEqual(r.resourceTemplates.map((t) => t.uriTemplate), [
    'backend://document/{namespace}/{key}',
    'backend://document/{namespace}/{key}/versions/{version}',
    'backend://document/{namespace}',
    'backend://queue/{namespace}',
    'backend://sql/{table}',
    'backend://sql/{table}/rows/{id}',
  ]);
  for (const t of r.resourceTemplates) {
    assert.equal(t.mimeType, 'application/json');
    assert.ok(t.title && t.description && t.name, JSON.stringify(t));
  }
});
await check('resources/list, every page (the 2.x client follows nextCursor itself): the namespace, the queue and the table are there', async () => {
  const uris = [];
  let cursor;
  let pages = 0;
  do {
    const r = await client.listResources(cursor ? { cursor } : undefined);
    uris.push(...r.resources.map((x) => x.uri));
    for (const x of r.resources) assert.equal(x.mimeType, 'application/json');
    cursor = r.nextCursor;
    pages++;
  } while (cursor && pages < 100);
  console.log(`# ${uris.length} resources in ${pages} pages`);
  for (const u of [`backend://document/${ns}`, `backend://queue/${queue}`, `backend://sql/${table}`])
    assert.ok(uris.includes(u), `${u} listed`);
  assert.equal(new Set(uris).size, uris.length, 'no resource twice');
});
await check('resources/read of each template is the HTTP GET it stands for', async () => {
  await same(`backend://document/${ns}/${key}`, `/document/${ns}/${key}`);
  await same(`backend://document/${ns}/${key}/versions/1`, `/document/${ns}/${key}?version=1`);
  await same(`backend://document/${ns}`, `/document/${ns}`);
  await same(`backend://queue/${queue}`, `/queue/${queue}`);
  await same(`backend://sql/${table}`, `/sql/tables/${table}`);
  await same(`backend://sql/${table}/rows/1`, `/sql/tables/${table}/rows/1`);
});
await check(`a URI that names nothing is ${unknownCode}`, async () => {
  await unknown(`backend://document/${ns}/no-such-key`, 'not_found');
  await unknown(`backend://document/${ns}/${key}/versions/999`, 'not_found');
  await unknown(`backend://sql/${table}/rows/999999`, 'not_found');
  await unknown('backend://elsewhere/x');
  await unknown(`backend://document/${ns}/_changes`);
});
await check('completion/complete: the key by its prefix, in the namespace chosen', async () => {
  const r = await client.complete({
    ref: { type: 'ref/resource', uri: 'backend://document/{namespace}/{key}' },
    argument: { name: 'key', value: key.slice(0, 2) },
    context: { arguments: { namespace: ns } },
  });
  assert.ok(r.completion.values.includes(key), JSON.stringify(r.completion));
  assert.ok(r.completion.values.every((v) => v.startsWith(key.slice(0, 2))));
});
{
  const what = stateless
    ? 'subscriptions/listen: acknowledged, then a write to the document brings notifications/resources/updated on its stream'
    : 'resources/subscribe: a write to the document brings notifications/resources/updated on the GET stream';
  await check(what, async () => {
    const updated = [];
    const onUpdated = (n) => updated.push(n.params.uri);
    if (v2) {
      client.setNotificationHandler('notifications/resources/updated', onUpdated);
    } else {
      const { ResourceUpdatedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, onUpdated);
    }
    const uri = `backend://document/${ns}/${key}`;
    let subscription;
    if (stateless) {
      subscription = await client.listen({ resourceSubscriptions: [uri, `backend://queue/${queue}`] });
      assert.deepEqual(subscription.honoredFilter, { resourceSubscriptions: [uri] });
    } else {
      await client.subscribeResource({ uri });
    }
    // the session's GET stream is open (the SDK opens it after initialize)
    await new Promise((r) => setTimeout(r, 500));
    const put = await fetch(`${base}/document`, {
      method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ namespace: ns, key, payload: { by: which } }),
    });
    assert.equal(put.status, 201);
    for (let i = 0; i < 100 && !updated.includes(uri); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(updated, [uri]);
    if (stateless) await subscription.close();
    else await client.unsubscribeResource({ uri });
  });
}

await client.close();
console.log(failed ? `resources-client: ${failed} failed` : 'resources-client: all passed');
process.exit(failed ? 1 : 0);
