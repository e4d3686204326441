-- RPCs the REST-backed services need (src/services/rest): public wrappers around
-- functions of the non-exposed steward schema. Security invoker: they run with the
-- caller's rights, and only the service role may call them.

create or replace function public.audit_verify(p_tenant uuid default null)
returns table (tenant_id uuid, id bigint, chain_seq bigint, reason text)
language sql stable set search_path = pg_catalog, public as $$
  select v.tenant_id, v.id, v.chain_seq, v.reason from steward.audit_verify(p_tenant) v
$$;

-- Over REST the call is its own transaction, committed before the client sees the rows,
-- so the refusal the SQL service makes after the call (a key whose tenant does not exist:
-- every envelope column null) is made here, undoing the whole batch. The detail names
-- the envelope's position in the batch.
create or replace function public.enqueue_envelopes(p_envelopes jsonb)
returns setof steward.enqueued_envelope
language plpgsql volatile set search_path = pg_catalog, public as $$
declare
  r steward.enqueued_envelope;
begin
  for r in select * from steward.enqueue_envelopes(p_envelopes) loop
    if r.id is null then
      raise exception 'the tenant of envelope % does not exist', r.ord using errcode = 'P0002',
        detail = jsonb_build_object('ord', r.ord, 'field', 'tenant_id')::text;
    end if;
    return next r;
  end loop;
end $$;

revoke all on function public.audit_verify(uuid), public.enqueue_envelopes(jsonb) from public, anon, authenticated;
grant execute on function public.audit_verify(uuid), public.enqueue_envelopes(jsonb) to service_role;
