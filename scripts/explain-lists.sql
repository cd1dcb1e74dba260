-- EXPLAIN (ANALYZE, BUFFERS) of the list queries the server sends, on a
-- database seeded by order-bench (`make bench` seeds one and drops it; keep
-- one with: create a database, start the server on it once to migrate, then
-- `order-bench --sides limit --scenarios get --runs 1 --sweep 0 --seed-orders
-- 1000000 --database-url ...`). Run:
--
--   psql -X -f scripts/explain-lists.sql "postgres://postgres@127.0.0.1:5432/<db>"
--
-- The statements are the server's (crates/order-postgres/src/orders/queries.rs,
-- as `scripts/bench-sql-audit.sh` captures them) with the column list
-- shortened to `*`, which changes no plan. Each is run once before it is
-- explained, so the buffers are the warm ones of a running service. The last
-- part forces the generic plan a prepared statement may switch to after five
-- executions (plan_cache_mode), to compare it with the custom one.
\set ON_ERROR_STOP on
\pset pager off
SET jit = off;
-- The depths follow the seed's size: the last page, the middle, and the
-- busiest customer's last page (999,979 / 499,999 / 99,979 at 1M orders).
SELECT count(*) AS live_orders, count(*) - 21 AS deep_offset, count(*) / 2 - 1 AS mid_offset
  FROM order_mgmt_orders WHERE deleted_at IS NULL \gset
\echo live orders: :live_orders
-- The busiest customer, and the cursors of the middle and deep pages.
SELECT customer_id AS busiest FROM order_mgmt_orders
 GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1 \gset
SELECT count(*) AS busiest_orders, count(*) - 21 AS cdeep_offset FROM order_mgmt_orders
 WHERE deleted_at IS NULL AND customer_id = :'busiest' \gset
\echo orders of the busiest customer: :busiest_orders
SELECT created_at AS deep_at, id AS deep_id FROM order_mgmt_orders WHERE deleted_at IS NULL
 ORDER BY created_at DESC, id DESC OFFSET :deep_offset LIMIT 1 \gset
SELECT created_at AS mid_at, id AS mid_id FROM order_mgmt_orders WHERE deleted_at IS NULL
 ORDER BY created_at DESC, id DESC OFFSET :mid_offset LIMIT 1 \gset
SELECT created_at AS cdeep_at, id AS cdeep_id FROM order_mgmt_orders
 WHERE deleted_at IS NULL AND customer_id = :'busiest'
 ORDER BY created_at DESC, id DESC OFFSET :cdeep_offset LIMIT 1 \gset

PREPARE page_all(int8, int8) AS
  SELECT * FROM "order_mgmt_orders" WHERE ("order_mgmt_orders"."deleted_at" IS NULL)
  ORDER BY "order_mgmt_orders"."created_at" DESC, "order_mgmt_orders"."id" DESC LIMIT $1 OFFSET $2;
PREPARE page_all_after(timestamptz, uuid, int8, int8) AS
  SELECT * FROM "order_mgmt_orders" WHERE (("order_mgmt_orders"."deleted_at" IS NULL)
  AND ("order_mgmt_orders"."created_at", "order_mgmt_orders"."id") < ($1, $2))
  ORDER BY "order_mgmt_orders"."created_at" DESC, "order_mgmt_orders"."id" DESC LIMIT $3 OFFSET $4;
PREPARE page_customer(uuid, int8, int8) AS
  SELECT * FROM "order_mgmt_orders" WHERE (("order_mgmt_orders"."deleted_at" IS NULL)
  AND ("order_mgmt_orders"."customer_id" = $1))
  ORDER BY "order_mgmt_orders"."created_at" DESC, "order_mgmt_orders"."id" DESC LIMIT $2 OFFSET $3;
PREPARE page_customer_after(uuid, timestamptz, uuid, int8, int8) AS
  SELECT * FROM "order_mgmt_orders" WHERE ((("order_mgmt_orders"."deleted_at" IS NULL)
  AND ("order_mgmt_orders"."customer_id" = $1))
  AND ("order_mgmt_orders"."created_at", "order_mgmt_orders"."id") < ($2, $3))
  ORDER BY "order_mgmt_orders"."created_at" DESC, "order_mgmt_orders"."id" DESC LIMIT $4 OFFSET $5;
PREPARE lines_of(uuid[]) AS
  SELECT * FROM "order_mgmt_order_lines" WHERE ("order_mgmt_order_lines"."order_id" = ANY($1))
  ORDER BY "order_mgmt_order_lines"."order_id", "order_mgmt_order_lines"."created_at",
  "order_mgmt_order_lines"."id";

\echo '== /orders, page 1'
\o /dev/null
EXECUTE page_all(21, 0);
\o
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_all(21, 0);
\echo '== /orders?after=<cursor on the last page>'
\o /dev/null
EXECUTE page_all_after(:'deep_at', :'deep_id', 21, 0);
\o
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_all_after(:'deep_at', :'deep_id', 21, 0);
\echo '== /orders?after=<cursor half-way>'
\o /dev/null
EXECUTE page_all_after(:'mid_at', :'mid_id', 21, 0);
\o
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_all_after(:'mid_at', :'mid_id', 21, 0);
\echo '== the lines of a page of 20 orders'
SELECT array_agg(id) AS page_ids FROM (SELECT id FROM order_mgmt_orders WHERE deleted_at IS NULL
 ORDER BY created_at DESC, id DESC LIMIT 20) p \gset
\o /dev/null
EXECUTE lines_of(:'page_ids');
\o
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE lines_of(:'page_ids');
\echo '== the estimate of the total (no count by default): planning only, its Planning Time is the cost'
EXPLAIN (SUMMARY) SELECT 1 FROM order_mgmt_orders
 WHERE deleted_at IS NULL AND (NULL::uuid IS NULL OR customer_id = NULL)
 AND (NULL::text IS NULL OR status = NULL);
\echo '== include_total=true: the bounded count of /orders'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT count(*) AS n FROM (SELECT 1 FROM order_mgmt_orders
 WHERE deleted_at IS NULL AND (NULL::uuid IS NULL OR customer_id = NULL)
 AND (NULL::text IS NULL OR status = NULL) LIMIT 10001) AS m;
\echo '== /orders/customer/{busiest}, page 1'
\o /dev/null
EXECUTE page_customer(:'busiest', 21, 0);
\o
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_customer(:'busiest', 21, 0);
\echo '== /orders/customer/{busiest}?after=<cursor on its last page>'
\o /dev/null
EXECUTE page_customer_after(:'busiest', :'cdeep_at', :'cdeep_id', 21, 0);
\o
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_customer_after(:'busiest', :'cdeep_at', :'cdeep_id', 21, 0);

\echo '== the same four pages with the generic plan (plan_cache_mode = force_generic_plan)'
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_all(21, 0);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_all_after(:'deep_at', :'deep_id', 21, 0);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_customer(:'busiest', 21, 0);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page_customer_after(:'busiest', :'cdeep_at', :'cdeep_id', 21, 0);
RESET plan_cache_mode;
\echo '== which plan the cache chose after ten more executions of each (auto mode)'
\o /dev/null
SELECT format('EXECUTE page_all(21, 0)') FROM generate_series(1, 10) \gexec
SELECT format('EXECUTE page_all_after(%L, %L, 21, 0)', :'deep_at', :'deep_id')
  FROM generate_series(1, 10) \gexec
SELECT format('EXECUTE page_customer(%L, 21, 0)', :'busiest') FROM generate_series(1, 10) \gexec
SELECT format('EXECUTE page_customer_after(%L, %L, %L, 21, 0)', :'busiest', :'cdeep_at',
  :'cdeep_id') FROM generate_series(1, 10) \gexec
\o
SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name;
