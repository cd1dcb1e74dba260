-- The outbox becomes the published event log and the orders' history.
--
-- `payload` now holds the whole envelope exactly as it is published and read
-- back (crate order-events): id, type, data with before/after facts,
-- order_id, order_number, customer_id, sequence, occurred_at, actor, reason.
-- The columns beside it exist to find rows, not to rebuild the envelope.

ALTER TABLE order_mgmt_order_events
    -- UUID v7 of the event: the consumers' de-duplication key and the
    -- JetStream Nats-Msg-Id, so a re-published event is dropped by the broker.
    ADD COLUMN event_id uuid NULL,
    -- Who made the change, for "what did this actor do" audits.
    ADD COLUMN actor_id text NOT NULL DEFAULT 'anonymous',
    -- Set by the relay after the broker acknowledged the event. Rows are kept
    -- after publishing: they are the history (docs/operations.md, retention).
    ADD COLUMN published_at timestamptz NULL;

-- Events written before this migration: dotted type names, an envelope around
-- their old payload (their `data` keeps the shape of its time), and marked
-- published: no relay existed when they were written, so no consumer waits for
-- them, and their old data shape would not match the published schemas.
UPDATE order_mgmt_order_events e
SET event_id = gen_random_uuid(),
    event_type = CASE e.event_type
        WHEN 'OrderCreated' THEN 'order.created'
        WHEN 'OrderLineAdded' THEN 'order.line_added'
        WHEN 'OrderLineUpdated' THEN 'order.line_updated'
        WHEN 'OrderLineRemoved' THEN 'order.line_removed'
        WHEN 'OrderDiscountAdded' THEN 'order.discount_added'
        WHEN 'OrderDiscountRemoved' THEN 'order.discount_removed'
        WHEN 'OrderConfirmed' THEN 'order.confirmed'
        WHEN 'OrderProcessingStarted' THEN 'order.processing_started'
        WHEN 'OrderFulfilled' THEN 'order.fulfilled'
        WHEN 'OrderCancelled' THEN 'order.cancelled'
        WHEN 'OrderDeleted' THEN 'order.deleted'
        ELSE e.event_type
    END,
    published_at = now()
WHERE e.event_id IS NULL;

UPDATE order_mgmt_order_events e
SET payload = jsonb_build_object(
        'id', e.event_id,
        'type', e.event_type,
        'data', e.payload,
        'order_id', e.order_id,
        'order_number', o.order_number,
        'customer_id', o.customer_id,
        'sequence', e.version,
        'occurred_at', to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'actor', jsonb_build_object('id', 'anonymous', 'name', 'anonymous'),
        'reason', CASE WHEN e.event_type = 'order.cancelled' THEN e.payload -> 'reason' ELSE 'null'::jsonb END)
FROM order_mgmt_orders o
WHERE o.id = e.order_id AND NOT (e.payload ? 'sequence');

ALTER TABLE order_mgmt_order_events
    ALTER COLUMN event_id SET NOT NULL,
    ALTER COLUMN actor_id DROP DEFAULT,
    ADD CONSTRAINT uq_order_event_id UNIQUE (event_id);

-- What the relay reads: unpublished rows in commit-independent `id` order.
-- Partial, so it only ever holds the backlog (normally a handful of rows),
-- however long the history grows. The relay never tracks "id greater than the
-- last seen": bigserial ids commit out of order, and such a cursor would skip
-- a row that committed late.
CREATE INDEX idx_order_events_unpublished
    ON order_mgmt_order_events (id)
    WHERE published_at IS NULL;

-- Wakes the relay (LISTEN order_mgmt_order_events) when a writing transaction
-- commits: PostgreSQL delivers notifications at commit and never for a
-- rolled-back transaction, and folds a transaction's identical notifications
-- into one. Statement level, so a multi-row insert notifies once.
CREATE FUNCTION order_mgmt_notify_order_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('order_mgmt_order_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER trg_order_events_notify
    AFTER INSERT ON order_mgmt_order_events
    FOR EACH STATEMENT
    EXECUTE FUNCTION order_mgmt_notify_order_events();
