DROP TABLE order_mgmt_order_events;
