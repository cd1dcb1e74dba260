DROP TABLE order_mgmt_order_edits;
DROP TRIGGER trg_return_lines_count ON order_mgmt_return_lines;
DROP TRIGGER trg_fulfillment_lines_count ON order_mgmt_fulfillment_lines;
DROP FUNCTION order_mgmt_count_returned();
DROP FUNCTION order_mgmt_count_shipped();
DROP TABLE order_mgmt_return_lines;
DROP TABLE order_mgmt_returns;
DROP TABLE order_mgmt_fulfillment_lines;
DROP TABLE order_mgmt_fulfillments;
ALTER TABLE order_mgmt_order_lines
    DROP CONSTRAINT check_returned_quantity,
    DROP CONSTRAINT check_shipped_quantity,
    DROP COLUMN returned_quantity,
    DROP COLUMN shipped_quantity;
