-- Transactional outbox: every domain event of an order, written in the same
-- transaction as the order change that raised it, so an event is stored if
-- and only if the change is. A relay (not part of this service yet) reads it
-- in `id` order and publishes to the event bus.

CREATE TABLE order_mgmt_order_events (
    id           bigserial   PRIMARY KEY,
    order_id     uuid        NOT NULL,
    -- The order's version right after the change: per order, events are
    -- numbered without gaps, and a duplicate is impossible.
    version      bigint      NOT NULL,
    event_type   text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    payload      jsonb       NOT NULL,

    CONSTRAINT fk_event_order FOREIGN KEY (order_id)
        REFERENCES order_mgmt_orders (id) ON DELETE CASCADE,
    CONSTRAINT uq_order_event_version UNIQUE (order_id, version),
    CONSTRAINT check_event_version CHECK (version >= 1)
);
