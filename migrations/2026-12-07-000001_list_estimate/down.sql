DROP FUNCTION order_mgmt_list_estimate(uuid, text);
