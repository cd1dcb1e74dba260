-- The planner's estimate of how many live orders a list's filter matches,
-- as a value a query can use (EXPLAIN is a statement of its own otherwise).
--
-- A list page carries this estimate as its total when it does not count
-- (docs/api.md, "Totals"). Asking for it with a separate `EXPLAIN` cost one
-- more round trip on every page that has a next page; as a function it is
-- part of the page's one statement. Only planning happens: no row is read,
-- so it costs the same at any table size.
--
-- `EXECUTE ... USING` plans the statement with the values bound, so
-- `$1 IS NULL OR ...` folds away and each filter gets the estimate of its
-- own index, exactly as the `EXPLAIN` the adapter sent before. VOLATILE
-- because PostgreSQL allows a utility statement (EXPLAIN) only in a
-- volatile function; it reads nothing and writes nothing.
CREATE FUNCTION order_mgmt_list_estimate(customer uuid, status text) RETURNS bigint AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT 1 FROM order_mgmt_orders WHERE deleted_at IS NULL '
            'AND ($1::uuid IS NULL OR customer_id = $1) AND ($2::text IS NULL OR status = $2)'
        INTO plan
        USING customer, status;
    RETURN floor(greatest((plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8, 0))::bigint;
END
$$ LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE;
