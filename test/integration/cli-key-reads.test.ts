import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Keys } from '../../runtime/keys.ts';
import { getMany } from '../../services/cli/src/get-many.ts';
import { scanKeys } from '../../services/cli/src/scan-keys.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';

const P = 16;

/**
 * The two reads of `cdc` that name several keys at once, on whichever Redis the tests run: on a
 * Redis Cluster the keys of 16 partitions sit in 16 slots on three masters, where one MGET of
 * them all is refused (CROSSSLOT) and a SCAN sent through the cluster client sees one master.
 */
describe('cdc reads of several keys: every slot, every master', () => {
  let redisCtx: TestRedis;
  let keys: Keys;

  before(async () => {
    redisCtx = await createTestRedis('cli_key_reads');
    keys = new Keys(redisCtx.capturePrefix);
    // Every other partition's lease is held: the others read back as missing.
    for (let p = 0; p < P; p += 2)
      await redisCtx.redis.set(keys.lease('todo', p, 'pg'), `instance-${p}`);
  });

  after(() => redisCtx.cleanup());

  test('getMany: the values of keys of many slots, in the order asked, null where missing', async () => {
    const asked = [...Array(P).keys()].reverse();
    const values = await getMany(
      redisCtx.redis,
      asked.map((p) => keys.lease('todo', p, 'pg')),
    );
    assert.deepEqual(
      values,
      asked.map((p) => (p % 2 === 0 ? `instance-${p}` : null)),
    );
    assert.deepEqual(await getMany(redisCtx.redis, []), []);
  });

  test('scanKeys: every matching key, whichever master holds it', async () => {
    const found = await scanKeys(redisCtx.redis, `${redisCtx.prefix}*:lease:pg`);
    assert.deepEqual(
      found.sort(),
      [...Array(P / 2).keys()].map((i) => keys.lease('todo', 2 * i, 'pg')).sort(),
    );
  });
});
