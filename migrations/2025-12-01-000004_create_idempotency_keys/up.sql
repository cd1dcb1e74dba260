-- Idempotency keys: a client retrying a POST with the same Idempotency-Key
-- gets the first answer back instead of a second effect.
--
-- A row is claimed ('in_progress') before the request runs, then completed
-- with the answer IN THE SAME TRANSACTION as the request's effect (the order
-- or customer write), so an effect never exists without its stored answer.
-- `token` identifies the claim: a claim whose holder died is taken over after
-- a lease with a new token, and the old holder's write then finds no row and
-- rolls back.

CREATE TABLE order_mgmt_idempotency_keys (
    scope             text        NOT NULL,
    key               text        NOT NULL,
    -- SHA-256 of what the request asks (method, path, body): the same key
    -- with a different request is refused.
    fingerprint       text        NOT NULL,
    state             text        NOT NULL,
    token             text        NOT NULL,
    response_status   smallint    NULL,
    response_headers  jsonb       NULL,
    response_body     bytea       NULL,
    created_at        timestamptz NOT NULL,
    locked_at         timestamptz NOT NULL,
    completed_at      timestamptz NULL,

    CONSTRAINT pk_idempotency_keys PRIMARY KEY (scope, key),
    CONSTRAINT check_idempotency_state CHECK (state IN ('in_progress', 'completed')),
    CONSTRAINT check_idempotency_key CHECK (length(key) BETWEEN 1 AND 255),
    CONSTRAINT check_idempotency_completed CHECK (
        (state = 'completed') = (response_status IS NOT NULL AND completed_at IS NOT NULL)
    )
);

-- The purge deletes by age.
CREATE INDEX idx_idempotency_keys_created ON order_mgmt_idempotency_keys (created_at);
