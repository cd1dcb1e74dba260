DROP TRIGGER trg_order_events_notify ON order_mgmt_order_events;
DROP FUNCTION order_mgmt_notify_order_events();
DROP INDEX idx_order_events_unpublished;
-- Back to the old shape: the envelope's data, the old type names.
UPDATE order_mgmt_order_events
SET payload = payload -> 'data',
    event_type = CASE event_type
        WHEN 'order.created' THEN 'OrderCreated'
        WHEN 'order.line_added' THEN 'OrderLineAdded'
        WHEN 'order.line_updated' THEN 'OrderLineUpdated'
        WHEN 'order.line_removed' THEN 'OrderLineRemoved'
        WHEN 'order.discount_added' THEN 'OrderDiscountAdded'
        WHEN 'order.discount_removed' THEN 'OrderDiscountRemoved'
        WHEN 'order.confirmed' THEN 'OrderConfirmed'
        WHEN 'order.processing_started' THEN 'OrderProcessingStarted'
        WHEN 'order.fulfilled' THEN 'OrderFulfilled'
        WHEN 'order.cancelled' THEN 'OrderCancelled'
        WHEN 'order.deleted' THEN 'OrderDeleted'
        ELSE event_type
    END;
ALTER TABLE order_mgmt_order_events
    DROP CONSTRAINT uq_order_event_id,
    DROP COLUMN published_at,
    DROP COLUMN actor_id,
    DROP COLUMN event_id;
