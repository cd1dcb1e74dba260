DELETE FROM order_mgmt_idempotency_keys WHERE state = 'completed';

ALTER TABLE order_mgmt_idempotency_keys
    DROP CONSTRAINT check_idempotency_completed,
    DROP COLUMN outcome,
    DROP COLUMN refusal,
    ADD COLUMN response_status smallint NULL,
    ADD COLUMN response_headers jsonb NULL,
    ADD COLUMN response_body bytea NULL,
    ADD CONSTRAINT check_idempotency_completed CHECK (
        (state = 'completed') = (response_status IS NOT NULL AND completed_at IS NOT NULL)
    );
