DROP TABLE order_mgmt_api_keys;
