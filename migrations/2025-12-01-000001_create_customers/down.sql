DROP TABLE customer_mgmt_customers;
