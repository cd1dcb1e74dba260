-- Tax per line and discounts on an order (issue 15).
--
-- The domain prices an order (order-domain/src/pricing.rs); these columns
-- store what it computed, and the constraints repeat its rules as a second
-- wall: per row what a row alone can show, and at commit (a deferred
-- constraint trigger) that an order's totals are exactly the sums of its
-- lines. Orders stored before this migration are untaxed, undiscounted and
-- priced exclusive of tax, which is what their rows already say.

-- ----- orders -----

ALTER TABLE order_mgmt_orders
    -- false: prices exclude tax and tax is added (the default);
    -- true: prices include tax, which is the part of each line it contains.
    ADD COLUMN prices_include_tax boolean NOT NULL DEFAULT false,
    -- The discounts in the order they apply: a short list owned by the order
    -- and always read with it, so it lives on the row (no join, no extra
    -- statement). Each element: {"id", "kind": "fixed"|"percentage",
    -- "fixed_amount" (minor units) | "percent_millionths", "code",
    -- "description", "amount" (minor units it takes), "created_at"}.
    ADD COLUMN discounts jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD CONSTRAINT check_discounts_array CHECK (jsonb_typeof(discounts) = 'array'),
    DROP CONSTRAINT check_total_arithmetic,
    -- numeric, so that corrupt amounts fail this check instead of overflowing.
    ADD CONSTRAINT check_total_arithmetic CHECK (
        total::numeric = subtotal::numeric - discount::numeric
            + CASE WHEN prices_include_tax THEN 0 ELSE tax::numeric END
    );

-- ----- lines -----

ALTER TABLE order_mgmt_order_lines
    -- The tax rate as millionths of the whole: 19 % = 190000, 7.5 % = 75000
    -- (a percentage with at most 4 fraction digits is exactly an integer here).
    ADD COLUMN tax_rate_millionths integer NOT NULL DEFAULT 0,
    ADD COLUMN tax_category text NULL,
    -- The line's share of the order's discounts.
    ADD COLUMN discount bigint NOT NULL DEFAULT 0,
    ADD COLUMN tax bigint NOT NULL DEFAULT 0,
    -- What the customer pays for the line.
    ADD COLUMN total bigint NULL;

UPDATE order_mgmt_order_lines SET total = subtotal;

-- PostgreSQL tests a row's CHECKs in alphabetical order of their names; these
-- sort after the older ones, so a row that breaks an older rule is still
-- reported by that rule's name.
ALTER TABLE order_mgmt_order_lines
    ALTER COLUMN total SET NOT NULL,
    ADD CONSTRAINT check_tax_rate CHECK (tax_rate_millionths BETWEEN 0 AND 1000000),
    ADD CONSTRAINT check_share_within_line CHECK (discount >= 0 AND discount <= subtotal),
    ADD CONSTRAINT check_tax_not_negative CHECK (tax >= 0),
    -- A row does not know its order's tax mode, so it may be either form;
    -- the commit-time trigger below holds each line to its order's mode.
    ADD CONSTRAINT check_total_is_line_net CHECK (
        total::numeric = subtotal::numeric - discount::numeric + tax::numeric
        OR total::numeric = subtotal::numeric - discount::numeric
    );

-- ----- totals are the sums of the lines, checked at commit -----

-- Deferred, because a write changes the row and its lines in several
-- statements and only the committed whole must add up. It runs once per
-- changed order row or line row, each time an index scan of one order's lines.
CREATE FUNCTION order_mgmt_check_order_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target uuid;
    o order_mgmt_orders%ROWTYPE;
    sums record;
    discount_sum numeric;
BEGIN
    IF TG_TABLE_NAME = 'order_mgmt_orders' THEN
        target := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        target := OLD.order_id;
    ELSE
        target := NEW.order_id;
    END IF;
    SELECT * INTO o FROM order_mgmt_orders WHERE id = target;
    IF NOT FOUND THEN
        RETURN NULL; -- the order itself was deleted (its lines cascade)
    END IF;
    SELECT coalesce(sum(subtotal::numeric), 0) AS subtotal,
           coalesce(sum(discount::numeric), 0) AS discount,
           coalesce(sum(tax::numeric), 0) AS tax,
           coalesce(sum(total::numeric), 0) AS total,
           count(*) FILTER (
               WHERE total::numeric <> subtotal::numeric - discount::numeric
                   + CASE WHEN o.prices_include_tax THEN 0 ELSE tax::numeric END
           ) AS wrong_lines
      INTO sums
      FROM order_mgmt_order_lines
     WHERE order_id = target;
    SELECT coalesce(sum((d ->> 'amount')::numeric), 0)
      INTO discount_sum
      FROM jsonb_array_elements(o.discounts) AS d;
    IF sums.subtotal <> o.subtotal OR sums.discount <> o.discount OR sums.tax <> o.tax
       OR sums.total <> o.total OR sums.wrong_lines > 0 OR discount_sum <> o.discount THEN
        RAISE EXCEPTION 'order % totals are not the sums of its lines', o.order_number
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'check_order_totals_are_line_sums';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER check_order_totals_are_line_sums
    AFTER INSERT OR UPDATE ON order_mgmt_orders
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION order_mgmt_check_order_totals();

CREATE CONSTRAINT TRIGGER check_line_sums_are_order_totals
    AFTER INSERT OR UPDATE OR DELETE ON order_mgmt_order_lines
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION order_mgmt_check_order_totals();
