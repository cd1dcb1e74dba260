-- Customer Management: the minimal customer store the order flow needs.
--
-- Ids are UUID v7 made by the application, so there is no DEFAULT on `id`.
-- The email is stored exactly as the application normalised it (trimmed,
-- domain lower-cased) and is unique: one registration per address.

CREATE TABLE customer_mgmt_customers (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    email       text        NOT NULL,
    source      text        NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT uq_customer_email UNIQUE (email),
    CONSTRAINT check_customer_name CHECK (btrim(name) <> ''),
    CONSTRAINT check_customer_email CHECK (position('@' IN email) > 1)
);

-- The customer list is served newest first; (created_at DESC, id DESC) is its
-- exact ORDER BY (id breaks ties between customers created in the same
-- microsecond), so a page is read straight off the index.
CREATE INDEX idx_customers_created ON customer_mgmt_customers (created_at DESC, id DESC);
