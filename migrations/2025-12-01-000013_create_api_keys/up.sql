-- API keys (issue 13). A key's text is `omk_<prefix>_<secret>`: only the
-- public prefix and the SHA-256 digest of the secret are stored, so a copy
-- of this table lets nobody call the API.
--
-- The migration number is the issue's, not the next free one, so that
-- migrations added in parallel by other changes cannot take the same version.

CREATE TABLE order_mgmt_api_keys (
    id             uuid        PRIMARY KEY,
    name           text        NOT NULL,
    prefix         text        NOT NULL,
    secret_digest  bytea       NOT NULL,
    scopes         text[]      NOT NULL,
    -- A bound key sees and changes this customer's orders only.
    customer_id    uuid        NULL REFERENCES customer_mgmt_customers (id),
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz NULL,

    -- Every request looks its key up by prefix.
    CONSTRAINT uq_api_key_prefix UNIQUE (prefix),
    CONSTRAINT check_api_key_name CHECK (btrim(name) <> '' AND char_length(name) <= 100),
    CONSTRAINT check_api_key_prefix CHECK (prefix ~ '^omk_[0-9a-f]{12}$'),
    CONSTRAINT check_api_key_digest CHECK (octet_length(secret_digest) = 32),
    CONSTRAINT check_api_key_scopes CHECK (
        cardinality(scopes) > 0
        AND scopes <@ ARRAY['orders:read', 'orders:write', 'orders:fulfil', 'customers:read',
                            'customers:write', 'events:read', 'admin']::text[]
    ),
    CONSTRAINT check_api_key_revoked CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
