DROP TRIGGER check_line_sums_are_order_totals ON order_mgmt_order_lines;
DROP TRIGGER check_order_totals_are_line_sums ON order_mgmt_orders;
DROP FUNCTION order_mgmt_check_order_totals();

ALTER TABLE order_mgmt_order_lines
    DROP CONSTRAINT check_total_is_line_net,
    DROP CONSTRAINT check_tax_not_negative,
    DROP CONSTRAINT check_share_within_line,
    DROP CONSTRAINT check_tax_rate,
    DROP COLUMN total,
    DROP COLUMN tax,
    DROP COLUMN discount,
    DROP COLUMN tax_category,
    DROP COLUMN tax_rate_millionths;

ALTER TABLE order_mgmt_orders
    DROP CONSTRAINT check_total_arithmetic,
    ADD CONSTRAINT check_total_arithmetic
        CHECK (total::numeric = subtotal::numeric + tax::numeric - discount::numeric),
    DROP CONSTRAINT check_discounts_array,
    DROP COLUMN discounts,
    DROP COLUMN prices_include_tax;
