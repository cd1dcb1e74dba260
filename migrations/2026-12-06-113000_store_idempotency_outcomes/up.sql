-- Idempotency keys store what a request did, not an HTTP response.
--
-- A write completes its claim IN ITS OWN TRANSACTION with the value it wrote
-- (`outcome`: the order as written and the line it touched, or the customer,
-- in the adapter's row format), and the HTTP adapter renders a replay from it
-- with the code that rendered the first answer. A request refused without
-- effect is completed with the HTTP adapter's opaque record of its refusal
-- (`refusal`). Status codes and headers are no longer the store's business.
--
-- Keys live for a day; answers stored in the old form cannot be read by the
-- new code, so they are dropped (a retry of one of them runs again).

DELETE FROM order_mgmt_idempotency_keys WHERE state = 'completed';

ALTER TABLE order_mgmt_idempotency_keys
    DROP CONSTRAINT check_idempotency_completed,
    DROP COLUMN response_status,
    DROP COLUMN response_headers,
    DROP COLUMN response_body,
    ADD COLUMN outcome jsonb NULL,
    ADD COLUMN refusal bytea NULL,
    ADD CONSTRAINT check_idempotency_completed CHECK (
        (state = 'completed') = (completed_at IS NOT NULL)
        AND (state = 'completed') = (outcome IS NOT NULL OR refusal IS NOT NULL)
        AND (outcome IS NULL OR refusal IS NULL)
    );
