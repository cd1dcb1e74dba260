-- Order Management: orders and their lines.
--
-- The domain (crate order-domain) decides every rule; the constraints below
-- repeat the important ones as a second wall, so that a bug or a hand-written
-- UPDATE cannot store an order the domain would refuse to load.
-- Money is BIGINT minor units (cents for USD); every amount of an order and
-- of its lines is in the order's `currency`.

CREATE TABLE order_mgmt_orders (
    id                     uuid        PRIMARY KEY,
    order_number           text        NOT NULL,
    customer_id            uuid        NOT NULL,
    -- The B2B company ordering. Companies live in another context that has no
    -- table here yet, so this is a plain reference without a foreign key.
    company_id             uuid        NULL,
    status                 text        NOT NULL,
    currency               char(3)     NOT NULL,
    subtotal               bigint      NOT NULL,
    tax                    bigint      NOT NULL,
    discount               bigint      NOT NULL,
    total                  bigint      NOT NULL,
    -- Rises by one with every change; updates are a compare-and-set on it.
    version                bigint      NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    deleted_at             timestamptz NULL,
    confirmed_at           timestamptz NULL,
    processing_started_at  timestamptz NULL,
    fulfilled_at           timestamptz NULL,
    cancelled_at           timestamptz NULL,
    cancellation_reason    text        NULL,

    CONSTRAINT uq_order_number UNIQUE (order_number),
    CONSTRAINT fk_customer FOREIGN KEY (customer_id)
        REFERENCES customer_mgmt_customers (id),
    CONSTRAINT check_total CHECK (total >= 0),
    CONSTRAINT check_subtotal CHECK (subtotal >= 0),
    CONSTRAINT check_tax CHECK (tax >= 0),
    CONSTRAINT check_discount CHECK (discount >= 0),
    -- numeric, so that corrupt amounts fail this check instead of overflowing.
    CONSTRAINT check_total_arithmetic
        CHECK (total::numeric = subtotal::numeric + tax::numeric - discount::numeric),
    CONSTRAINT check_status
        CHECK (status IN ('pending', 'confirmed', 'processing', 'fulfilled', 'cancelled')),
    CONSTRAINT check_currency CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT check_version CHECK (version >= 1),
    -- ORD-YYYY-NNNNNN, the counter six digits or more (never zero-padded beyond six).
    CONSTRAINT check_order_number
        CHECK (order_number ~ '^ORD-[1-9][0-9]{3}-([0-9]{6}|[1-9][0-9]{6,})$'),
    -- A status implies the timestamps of the transitions that led to it.
    CONSTRAINT check_status_timestamps CHECK (
        CASE status
            WHEN 'confirmed'  THEN confirmed_at IS NOT NULL
            WHEN 'processing' THEN confirmed_at IS NOT NULL AND processing_started_at IS NOT NULL
            WHEN 'fulfilled'  THEN confirmed_at IS NOT NULL AND processing_started_at IS NOT NULL
                                   AND fulfilled_at IS NOT NULL
            WHEN 'cancelled'  THEN cancelled_at IS NOT NULL
            ELSE true
        END
    )
);

-- Every list is "live orders, newest first": ORDER BY created_at DESC, id DESC
-- (id breaks ties within one microsecond, so pages never overlap or skip).
-- Each list index therefore ends with (created_at DESC, id DESC): the page is
-- read in index order and LIMIT stops the scan early, with no sort. They are
-- partial (WHERE deleted_at IS NULL) because soft-deleted orders are never
-- listed: the indexes stay smaller and the planner can use them only for
-- queries that carry the same predicate, which every repository query does.

-- A customer's newest orders (GET /orders/customer/{id}; also customer+status).
CREATE INDEX idx_orders_customer
    ON order_mgmt_orders (customer_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- Orders in one status, newest first (GET /orders/status/{status}).
CREATE INDEX idx_orders_status
    ON order_mgmt_orders (status, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- All live orders, newest first (GET /orders).
CREATE INDEX idx_orders_created
    ON order_mgmt_orders (created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- Soft-deleted orders only (purging, audits): tiny, as most orders are live.
CREATE INDEX idx_orders_deleted
    ON order_mgmt_orders (deleted_at)
    WHERE deleted_at IS NOT NULL;

CREATE TABLE order_mgmt_order_lines (
    id           uuid        PRIMARY KEY,
    order_id     uuid        NOT NULL,
    product_id   uuid        NOT NULL,
    quantity     integer     NOT NULL,
    unit_price   bigint      NOT NULL,
    subtotal     bigint      NOT NULL,
    -- Product snapshot at the time of ordering.
    description  text        NULL,
    sku          text        NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,

    CONSTRAINT fk_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_quantity CHECK (quantity > 0 AND quantity <= 1000000),
    -- 10^15 minor units is the domain's OrderLine::MAX_UNIT_PRICE.
    CONSTRAINT check_price CHECK (unit_price >= 0 AND unit_price <= 1000000000000000),
    CONSTRAINT check_line_subtotal
        CHECK (subtotal::numeric = quantity::numeric * unit_price::numeric)
);

-- The lines of one order (loading an order, a list page with ANY(...), and
-- the ON DELETE CASCADE of fk_order).
CREATE INDEX idx_order_lines_order ON order_mgmt_order_lines (order_id);

-- Which orders contain a product (catalogue and reporting questions).
CREATE INDEX idx_order_lines_product ON order_mgmt_order_lines (product_id);

-- Order numbers: ORD-YYYY-<nextval>. A sequence is unique across every
-- server and never blocks a concurrent creator; a rolled-back transaction
-- leaves a gap, which order numbers may have.
CREATE SEQUENCE order_mgmt_order_number_seq AS bigint START WITH 1 NO CYCLE;
