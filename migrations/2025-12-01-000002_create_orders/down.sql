DROP SEQUENCE order_mgmt_order_number_seq;
DROP TABLE order_mgmt_order_lines;
DROP TABLE order_mgmt_orders;
