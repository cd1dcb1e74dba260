-- The embedded store (crate order-sqlite): the schema of the PostgreSQL
-- migrations in `migrations/`, as of 2026-12-06, in one step, with the same
-- constraint names so a violation reads the same on both stores.
--
-- SQLite differences, each deliberate:
-- * ids are TEXT (hyphenated lower-case UUIDs) and times are TEXT in one
--   fixed-width UTC form, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds, as
--   PostgreSQL keeps): text order is time order, so lists sort on the column.
-- * Tables are STRICT: a value of the wrong type is refused, not coerced.
-- * Patterns are GLOBs (SQLite has no regular expressions).
-- * PostgreSQL's commit-time trigger (an order's totals are the sums of its
--   lines) has no SQLite equivalent: SQLite has no deferred triggers. The
--   per-row CHECKs below are the wall here; the domain decides first.
-- * Order numbers come from a one-row counter instead of a sequence.
-- Foreign keys are enforced only with `PRAGMA foreign_keys = ON`, which the
-- adapter sets on every connection it opens.

CREATE TABLE customer_mgmt_customers (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    source      TEXT NULL,
    created_at  TEXT NOT NULL,

    CONSTRAINT uq_customer_email UNIQUE (email),
    CONSTRAINT check_customer_name CHECK (trim(name) <> ''),
    CONSTRAINT check_customer_email CHECK (instr(email, '@') > 1)
) STRICT;

CREATE INDEX idx_customers_created ON customer_mgmt_customers (created_at DESC, id DESC);

CREATE TABLE order_mgmt_orders (
    id                     TEXT    NOT NULL PRIMARY KEY,
    order_number           TEXT    NOT NULL,
    customer_id            TEXT    NOT NULL,
    company_id             TEXT    NULL,
    status                 TEXT    NOT NULL,
    currency               TEXT    NOT NULL,
    subtotal               INTEGER NOT NULL,
    tax                    INTEGER NOT NULL,
    discount               INTEGER NOT NULL,
    total                  INTEGER NOT NULL,
    version                INTEGER NOT NULL,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL,
    deleted_at             TEXT    NULL,
    confirmed_at           TEXT    NULL,
    processing_started_at  TEXT    NULL,
    fulfilled_at           TEXT    NULL,
    cancelled_at           TEXT    NULL,
    cancellation_reason    TEXT    NULL,
    prices_include_tax     INTEGER NOT NULL DEFAULT 0,
    -- The discounts in the order they apply, as in PostgreSQL's jsonb column.
    discounts              TEXT    NOT NULL DEFAULT '[]',

    CONSTRAINT uq_order_number UNIQUE (order_number),
    CONSTRAINT fk_customer FOREIGN KEY (customer_id)
        REFERENCES customer_mgmt_customers (id),
    CONSTRAINT check_total CHECK (total >= 0),
    CONSTRAINT check_subtotal CHECK (subtotal >= 0),
    CONSTRAINT check_tax CHECK (tax >= 0),
    CONSTRAINT check_discount CHECK (discount >= 0),
    CONSTRAINT check_total_arithmetic CHECK (
        total = subtotal - discount + CASE WHEN prices_include_tax THEN 0 ELSE tax END
    ),
    CONSTRAINT check_status
        CHECK (status IN ('pending', 'confirmed', 'processing', 'fulfilled', 'cancelled')),
    CONSTRAINT check_currency CHECK (currency GLOB '[A-Z][A-Z][A-Z]'),
    CONSTRAINT check_version CHECK (version >= 1),
    -- ORD-YYYY-NNNNNN, the counter six digits or more (never zero-padded beyond six).
    CONSTRAINT check_order_number CHECK (
        order_number GLOB 'ORD-[1-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]'
        OR (order_number GLOB 'ORD-[1-9][0-9][0-9][0-9]-[1-9][0-9][0-9][0-9][0-9][0-9][0-9]*'
            AND substr(order_number, 10) NOT GLOB '*[^0-9]*')
    ),
    CONSTRAINT check_status_timestamps CHECK (
        CASE status
            WHEN 'confirmed'  THEN confirmed_at IS NOT NULL
            WHEN 'processing' THEN confirmed_at IS NOT NULL AND processing_started_at IS NOT NULL
            WHEN 'fulfilled'  THEN confirmed_at IS NOT NULL AND processing_started_at IS NOT NULL
                                   AND fulfilled_at IS NOT NULL
            WHEN 'cancelled'  THEN cancelled_at IS NOT NULL
            ELSE 1
        END
    ),
    CONSTRAINT check_prices_include_tax CHECK (prices_include_tax IN (0, 1)),
    CONSTRAINT check_discounts_array CHECK (json_type(discounts) = 'array')
) STRICT;

-- Lists read newest first off these, as on PostgreSQL.
CREATE INDEX idx_orders_customer
    ON order_mgmt_orders (customer_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX idx_orders_status
    ON order_mgmt_orders (status, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX idx_orders_created
    ON order_mgmt_orders (created_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE order_mgmt_order_lines (
    id                   TEXT    NOT NULL PRIMARY KEY,
    order_id             TEXT    NOT NULL,
    product_id           TEXT    NOT NULL,
    quantity             INTEGER NOT NULL,
    unit_price           INTEGER NOT NULL,
    subtotal             INTEGER NOT NULL,
    description          TEXT    NULL,
    sku                  TEXT    NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    tax_rate_millionths  INTEGER NOT NULL DEFAULT 0,
    tax_category         TEXT    NULL,
    discount             INTEGER NOT NULL DEFAULT 0,
    tax                  INTEGER NOT NULL DEFAULT 0,
    total                INTEGER NOT NULL,
    shipped_quantity     INTEGER NOT NULL DEFAULT 0,
    returned_quantity    INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT fk_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_quantity CHECK (quantity > 0 AND quantity <= 1000000),
    CONSTRAINT check_price CHECK (unit_price >= 0 AND unit_price <= 1000000000000000),
    CONSTRAINT check_line_subtotal CHECK (subtotal = quantity * unit_price),
    CONSTRAINT check_tax_rate CHECK (tax_rate_millionths BETWEEN 0 AND 1000000),
    CONSTRAINT check_share_within_line CHECK (discount >= 0 AND discount <= subtotal),
    CONSTRAINT check_tax_not_negative CHECK (tax >= 0),
    CONSTRAINT check_total_is_line_net CHECK (
        total = subtotal - discount + tax OR total = subtotal - discount
    ),
    CONSTRAINT check_shipped_quantity
        CHECK (shipped_quantity >= 0 AND shipped_quantity <= quantity),
    CONSTRAINT check_returned_quantity
        CHECK (returned_quantity >= 0 AND returned_quantity <= shipped_quantity)
) STRICT;

CREATE INDEX idx_order_lines_order ON order_mgmt_order_lines (order_id);
CREATE INDEX idx_order_lines_product ON order_mgmt_order_lines (product_id);

-- Order numbers: one counter row, advanced inside an immediate (write)
-- transaction, so two connections can never take the same value.
CREATE TABLE order_mgmt_order_numbers (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last  INTEGER NOT NULL CHECK (last >= 0)
) STRICT;
INSERT INTO order_mgmt_order_numbers (id, last) VALUES (1, 0);

-- The outbox and the orders' history: one row per domain event, written in
-- the transaction of the change; `payload` is the published envelope.
CREATE TABLE order_mgmt_order_events (
    id            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_id      TEXT    NOT NULL,
    order_id      TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    event_type    TEXT    NOT NULL,
    occurred_at   TEXT    NOT NULL,
    actor_id      TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    published_at  TEXT    NULL,

    CONSTRAINT fk_event_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT uq_order_event_version UNIQUE (order_id, version),
    CONSTRAINT uq_order_event_id UNIQUE (event_id),
    CONSTRAINT check_event_version CHECK (version >= 1),
    CONSTRAINT check_event_payload CHECK (json_valid(payload))
) STRICT;

CREATE INDEX idx_order_events_unpublished
    ON order_mgmt_order_events (id) WHERE published_at IS NULL;

CREATE TABLE order_mgmt_idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    state         TEXT NOT NULL,
    token         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    locked_at     TEXT NOT NULL,
    completed_at  TEXT NULL,
    outcome       TEXT NULL,
    refusal       BLOB NULL,

    CONSTRAINT pk_idempotency_keys PRIMARY KEY (scope, key),
    CONSTRAINT check_idempotency_state CHECK (state IN ('in_progress', 'completed')),
    CONSTRAINT check_idempotency_key CHECK (length(key) BETWEEN 1 AND 255),
    CONSTRAINT check_idempotency_completed CHECK (
        (state = 'completed') = (completed_at IS NOT NULL)
        AND (state = 'completed') = (outcome IS NOT NULL OR refusal IS NOT NULL)
        AND (outcome IS NULL OR refusal IS NULL)
    )
) STRICT;

CREATE INDEX idx_idempotency_keys_created ON order_mgmt_idempotency_keys (created_at);

CREATE TABLE order_mgmt_api_keys (
    id             TEXT NOT NULL PRIMARY KEY,
    name           TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    secret_digest  BLOB NOT NULL,
    -- Comma-separated scope names (SQLite has no arrays).
    scopes         TEXT NOT NULL,
    customer_id    TEXT NULL REFERENCES customer_mgmt_customers (id),
    created_at     TEXT NOT NULL,
    revoked_at     TEXT NULL,

    CONSTRAINT uq_api_key_prefix UNIQUE (prefix),
    CONSTRAINT check_api_key_name CHECK (trim(name) <> '' AND length(name) <= 100),
    CONSTRAINT check_api_key_prefix CHECK (
        prefix GLOB 'omk_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
    ),
    CONSTRAINT check_api_key_digest CHECK (length(secret_digest) = 32),
    -- At least one scope, and nothing but known scope names and commas.
    CONSTRAINT check_api_key_scopes CHECK (
        scopes <> ''
        AND replace(replace(replace(replace(replace(replace(replace(replace(scopes,
            'orders:read', ''), 'orders:write', ''), 'orders:fulfil', ''), 'customers:read', ''),
            'customers:write', ''), 'events:read', ''), 'admin', ''), ',', '') = ''
    ),
    CONSTRAINT check_api_key_revoked CHECK (revoked_at IS NULL OR revoked_at >= created_at)
) STRICT;

CREATE TABLE order_mgmt_fulfillments (
    order_id         TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    position         INTEGER NOT NULL,
    carrier          TEXT    NULL,
    tracking_number  TEXT    NULL,
    created_at       TEXT    NOT NULL,

    PRIMARY KEY (order_id, id),
    CONSTRAINT uq_fulfillment_position UNIQUE (order_id, position),
    CONSTRAINT fk_fulfillment_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_fulfillment_position CHECK (position >= 0)
) STRICT;

CREATE TABLE order_mgmt_fulfillment_lines (
    order_id        TEXT    NOT NULL,
    fulfillment_id  TEXT    NOT NULL,
    line_id         TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    quantity        INTEGER NOT NULL,

    PRIMARY KEY (order_id, fulfillment_id, line_id),
    CONSTRAINT fk_fulfillment FOREIGN KEY (order_id, fulfillment_id)
        REFERENCES order_mgmt_fulfillments (order_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_fulfillment_line FOREIGN KEY (line_id)
        REFERENCES order_mgmt_order_lines (id),
    CONSTRAINT check_fulfillment_quantity CHECK (quantity > 0)
) STRICT;

CREATE INDEX idx_fulfillment_lines_line ON order_mgmt_fulfillment_lines (line_id);

CREATE TABLE order_mgmt_returns (
    order_id       TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    reason         TEXT    NOT NULL,
    refund_amount  INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,

    PRIMARY KEY (order_id, id),
    CONSTRAINT uq_return_position UNIQUE (order_id, position),
    CONSTRAINT fk_return_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_return_position CHECK (position >= 0),
    CONSTRAINT check_refund_amount CHECK (refund_amount >= 0)
) STRICT;

CREATE TABLE order_mgmt_return_lines (
    order_id   TEXT    NOT NULL,
    return_id  TEXT    NOT NULL,
    line_id    TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    quantity   INTEGER NOT NULL,
    refund     INTEGER NOT NULL,

    PRIMARY KEY (order_id, return_id, line_id),
    CONSTRAINT fk_return FOREIGN KEY (order_id, return_id)
        REFERENCES order_mgmt_returns (order_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_return_line FOREIGN KEY (line_id)
        REFERENCES order_mgmt_order_lines (id),
    CONSTRAINT check_return_quantity CHECK (quantity > 0),
    CONSTRAINT check_return_refund CHECK (refund >= 0)
) STRICT;

CREATE INDEX idx_return_lines_line ON order_mgmt_return_lines (line_id);

-- Edits after confirmation: staged changes against one version of an order.
CREATE TABLE order_mgmt_order_edits (
    id            TEXT    NOT NULL PRIMARY KEY,
    order_id      TEXT    NOT NULL,
    base_version  INTEGER NOT NULL,
    state         TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    changes       TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,

    CONSTRAINT fk_edit_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_edit_state CHECK (state IN ('open', 'committed', 'discarded')),
    CONSTRAINT check_edit_versions CHECK (base_version >= 1 AND version >= 1),
    CONSTRAINT check_edit_changes CHECK (json_type(changes) = 'array')
) STRICT;

CREATE INDEX idx_order_edits_order ON order_mgmt_order_edits (order_id, created_at);

-- The per-line counters follow the shipment and return lines (rows are only
-- ever inserted); the lines' CHECKs then refuse an over-shipment or an
-- over-return and abort the whole write, as on PostgreSQL.
CREATE TRIGGER trg_fulfillment_lines_count
AFTER INSERT ON order_mgmt_fulfillment_lines
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: the line is not a line of the order')
     WHERE NOT EXISTS (SELECT 1 FROM order_mgmt_order_lines
                        WHERE id = NEW.line_id AND order_id = NEW.order_id);
    UPDATE order_mgmt_order_lines
       SET shipped_quantity = shipped_quantity + NEW.quantity
     WHERE id = NEW.line_id AND order_id = NEW.order_id;
END;

CREATE TRIGGER trg_return_lines_count
AFTER INSERT ON order_mgmt_return_lines
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: the line is not a line of the order')
     WHERE NOT EXISTS (SELECT 1 FROM order_mgmt_order_lines
                        WHERE id = NEW.line_id AND order_id = NEW.order_id);
    UPDATE order_mgmt_order_lines
       SET returned_quantity = returned_quantity + NEW.quantity
     WHERE id = NEW.line_id AND order_id = NEW.order_id;
END;
