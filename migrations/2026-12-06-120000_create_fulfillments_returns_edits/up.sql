-- After confirmation: shipments (fulfilments), returns and staged edits.
--
-- The domain decides every rule (crate order-domain: Order::create_fulfillment,
-- Order::create_return, Order::commit_edit). The database repeats the two
-- that matter most as a second wall, per line: never more shipped than
-- ordered, never more returned than shipped. The per-line counters are kept
-- by triggers from the shipment and return lines themselves, so no writer —
-- not the repository, not a hand-written INSERT — can store an over-shipment.

ALTER TABLE order_mgmt_order_lines
    ADD COLUMN shipped_quantity  integer NOT NULL DEFAULT 0,
    ADD COLUMN returned_quantity integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT check_shipped_quantity
        CHECK (shipped_quantity >= 0 AND shipped_quantity <= quantity),
    ADD CONSTRAINT check_returned_quantity
        CHECK (returned_quantity >= 0 AND returned_quantity <= shipped_quantity);

CREATE TABLE order_mgmt_fulfillments (
    order_id         uuid        NOT NULL,
    id               uuid        NOT NULL,
    -- Place in the order's list of shipments (0, 1, ...): the order they were made in.
    position         integer     NOT NULL,
    carrier          text        NULL,
    tracking_number  text        NULL,
    created_at       timestamptz NOT NULL,

    PRIMARY KEY (order_id, id),
    CONSTRAINT uq_fulfillment_position UNIQUE (order_id, position),
    CONSTRAINT fk_fulfillment_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_fulfillment_position CHECK (position >= 0)
);

CREATE TABLE order_mgmt_fulfillment_lines (
    order_id        uuid    NOT NULL,
    fulfillment_id  uuid    NOT NULL,
    line_id         uuid    NOT NULL,
    position        integer NOT NULL,
    quantity        integer NOT NULL,

    PRIMARY KEY (order_id, fulfillment_id, line_id),
    CONSTRAINT fk_fulfillment FOREIGN KEY (order_id, fulfillment_id)
        REFERENCES order_mgmt_fulfillments (order_id, id) ON DELETE CASCADE,
    -- A line that shipped can never be deleted (an edit may not remove it).
    CONSTRAINT fk_fulfillment_line FOREIGN KEY (line_id)
        REFERENCES order_mgmt_order_lines (id),
    CONSTRAINT check_fulfillment_quantity CHECK (quantity > 0)
);

CREATE INDEX idx_fulfillment_lines_line ON order_mgmt_fulfillment_lines (line_id);

CREATE TABLE order_mgmt_returns (
    order_id       uuid        NOT NULL,
    id             uuid        NOT NULL,
    position       integer     NOT NULL,
    reason         text        NOT NULL,
    -- Minor units in the order's currency; the sum of the return's line refunds.
    refund_amount  bigint      NOT NULL,
    created_at     timestamptz NOT NULL,

    PRIMARY KEY (order_id, id),
    CONSTRAINT uq_return_position UNIQUE (order_id, position),
    CONSTRAINT fk_return_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_return_position CHECK (position >= 0),
    CONSTRAINT check_refund_amount CHECK (refund_amount >= 0)
);

CREATE TABLE order_mgmt_return_lines (
    order_id   uuid    NOT NULL,
    return_id  uuid    NOT NULL,
    line_id    uuid    NOT NULL,
    position   integer NOT NULL,
    quantity   integer NOT NULL,
    refund     bigint  NOT NULL,

    PRIMARY KEY (order_id, return_id, line_id),
    CONSTRAINT fk_return FOREIGN KEY (order_id, return_id)
        REFERENCES order_mgmt_returns (order_id, id) ON DELETE CASCADE,
    CONSTRAINT fk_return_line FOREIGN KEY (line_id)
        REFERENCES order_mgmt_order_lines (id),
    CONSTRAINT check_return_quantity CHECK (quantity > 0),
    CONSTRAINT check_return_refund CHECK (refund >= 0)
);

CREATE INDEX idx_return_lines_line ON order_mgmt_return_lines (line_id);

-- The counters follow the shipment and return lines. Rows are only ever
-- inserted (a shipment or return is a fact, never rewritten), so an insert
-- trigger is all it takes; the line's CHECKs then refuse an over-shipment or
-- an over-return and roll back the whole write.
CREATE FUNCTION order_mgmt_count_shipped() RETURNS trigger AS $$
BEGIN
    UPDATE order_mgmt_order_lines
       SET shipped_quantity = shipped_quantity + NEW.quantity
     WHERE id = NEW.line_id AND order_id = NEW.order_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'line % is not a line of order %', NEW.line_id, NEW.order_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_fulfillment_lines_count
    AFTER INSERT ON order_mgmt_fulfillment_lines
    FOR EACH ROW EXECUTE FUNCTION order_mgmt_count_shipped();

CREATE FUNCTION order_mgmt_count_returned() RETURNS trigger AS $$
BEGIN
    UPDATE order_mgmt_order_lines
       SET returned_quantity = returned_quantity + NEW.quantity
     WHERE id = NEW.line_id AND order_id = NEW.order_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'line % is not a line of order %', NEW.line_id, NEW.order_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_return_lines_count
    AFTER INSERT ON order_mgmt_return_lines
    FOR EACH ROW EXECUTE FUNCTION order_mgmt_count_returned();

-- Orders fulfilled before shipments were recorded shipped everything at
-- once: record that as their one shipment, so every fulfilled order's lines
-- say they shipped (and their shipped units can be returned).
INSERT INTO order_mgmt_fulfillments (order_id, id, position, created_at)
SELECT o.id, o.id, 0, o.fulfilled_at
  FROM order_mgmt_orders o
 WHERE o.status = 'fulfilled'
   AND EXISTS (SELECT 1 FROM order_mgmt_order_lines l WHERE l.order_id = o.id);

INSERT INTO order_mgmt_fulfillment_lines (order_id, fulfillment_id, line_id, position, quantity)
SELECT l.order_id, l.order_id, l.id,
       (row_number() OVER (PARTITION BY l.order_id ORDER BY l.created_at, l.id) - 1)::integer,
       l.quantity
  FROM order_mgmt_order_lines l
  JOIN order_mgmt_orders o ON o.id = l.order_id
 WHERE o.status = 'fulfilled';

-- Edits after confirmation: staged changes against one version of an order.
-- The changes are a JSON array in the shape the edit repository writes; the
-- order itself is only touched when an edit is committed.
CREATE TABLE order_mgmt_order_edits (
    id            uuid        PRIMARY KEY,
    order_id      uuid        NOT NULL,
    base_version  bigint      NOT NULL,
    state         text        NOT NULL,
    -- The edit's own version: staging is a compare-and-set on it.
    version       bigint      NOT NULL,
    changes       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,

    CONSTRAINT fk_edit_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT check_edit_state CHECK (state IN ('open', 'committed', 'discarded')),
    CONSTRAINT check_edit_versions CHECK (base_version >= 1 AND version >= 1),
    CONSTRAINT check_edit_changes CHECK (jsonb_typeof(changes) = 'array')
);

CREATE INDEX idx_order_edits_order ON order_mgmt_order_edits (order_id, created_at);
