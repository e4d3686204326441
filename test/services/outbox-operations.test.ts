import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SqlOutboxOperations } from '../../src/services/outbox-operations.ts';
import { SqlTenantService } from '../../src/services/tenant-service.ts';
import { forEachBackend } from '../support/backends.ts';

// dlqSizeByTenant: what the outbox_dlq_size gauge reads at each scrape.

const A = '20000000-0000-4000-8000-00000000000a';
const B = '20000000-0000-4000-8000-00000000000b';

forEachBackend('SqlOutboxOperations.dlqSizeByTenant', (ctx) => {
  it('counts dead letters per tenant, listing a tenant without any as 0; a tenant sees only itself', async () => {
    const tenants = new SqlTenantService(ctx().service());
    await tenants.create({ id: A, name: 'DLQ A' });
    await tenants.create({ id: B, name: 'DLQ B' });
    await ctx().test.owner.transaction(async (tx) => {
      for (const n of [1, 2]) {
        await tx.query(`insert into outbox_dlq (id, tenant_id, tool_slug, arguments, external_id) values (gen_random_uuid(), $1, 'X__y', '{}', $2)`, [A, `dead-${n}`]);
      }
    });
    assert.deepEqual(await new SqlOutboxOperations(ctx().service()).dlqSizeByTenant(), [{ tenant_id: A, size: 2 }, { tenant_id: B, size: 0 }]);
    assert.deepEqual(await new SqlOutboxOperations(ctx().tenant({ tenant_id: B })).dlqSizeByTenant(), [{ tenant_id: B, size: 0 }]);
    assert.deepEqual(await new SqlOutboxOperations(ctx().tenant({ tenant_id: A })).dlqSizeByTenant(), [{ tenant_id: A, size: 2 }]);
  });
});
