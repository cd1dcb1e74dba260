// @generated automatically by Diesel CLI.

diesel::table! {
    customer_mgmt_customers (id) {
        id -> Uuid,
        name -> Text,
        email -> Text,
        source -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    order_mgmt_api_keys (id) {
        id -> Uuid,
        name -> Text,
        prefix -> Text,
        secret_digest -> Bytea,
        scopes -> Array<Nullable<Text>>,
        customer_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    order_mgmt_fulfillment_lines (order_id, fulfillment_id, line_id) {
        order_id -> Uuid,
        fulfillment_id -> Uuid,
        line_id -> Uuid,
        position -> Int4,
        quantity -> Int4,
    }
}

diesel::table! {
    order_mgmt_fulfillments (order_id, id) {
        order_id -> Uuid,
        id -> Uuid,
        position -> Int4,
        carrier -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    order_mgmt_idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        fingerprint -> Text,
        state -> Text,
        token -> Text,
        created_at -> Timestamptz,
        locked_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Jsonb>,
        refusal -> Nullable<Bytea>,
    }
}

diesel::table! {
    order_mgmt_order_edits (id) {
        id -> Uuid,
        order_id -> Uuid,
        base_version -> Int8,
        state -> Text,
        version -> Int8,
        changes -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_mgmt_order_events (id) {
        id -> Int8,
        order_id -> Uuid,
        version -> Int8,
        event_type -> Text,
        occurred_at -> Timestamptz,
        payload -> Jsonb,
        event_id -> Uuid,
        actor_id -> Text,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    order_mgmt_order_lines (id) {
        id -> Uuid,
        order_id -> Uuid,
        product_id -> Uuid,
        quantity -> Int4,
        unit_price -> Int8,
        subtotal -> Int8,
        description -> Nullable<Text>,
        sku -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        tax_rate_millionths -> Int4,
        tax_category -> Nullable<Text>,
        discount -> Int8,
        tax -> Int8,
        total -> Int8,
        shipped_quantity -> Int4,
        returned_quantity -> Int4,
    }
}

diesel::table! {
    order_mgmt_orders (id) {
        id -> Uuid,
        order_number -> Text,
        customer_id -> Uuid,
        company_id -> Nullable<Uuid>,
        status -> Text,
        #[max_length = 3]
        currency -> Bpchar,
        subtotal -> Int8,
        tax -> Int8,
        discount -> Int8,
        total -> Int8,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        confirmed_at -> Nullable<Timestamptz>,
        processing_started_at -> Nullable<Timestamptz>,
        fulfilled_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
        cancellation_reason -> Nullable<Text>,
        prices_include_tax -> Bool,
        discounts -> Jsonb,
    }
}

diesel::table! {
    order_mgmt_return_lines (order_id, return_id, line_id) {
        order_id -> Uuid,
        return_id -> Uuid,
        line_id -> Uuid,
        position -> Int4,
        quantity -> Int4,
        refund -> Int8,
    }
}

diesel::table! {
    order_mgmt_returns (order_id, id) {
        order_id -> Uuid,
        id -> Uuid,
        position -> Int4,
        reason -> Text,
        refund_amount -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(order_mgmt_api_keys -> customer_mgmt_customers (customer_id));
diesel::joinable!(order_mgmt_fulfillment_lines -> order_mgmt_order_lines (line_id));
diesel::joinable!(order_mgmt_fulfillments -> order_mgmt_orders (order_id));
diesel::joinable!(order_mgmt_order_edits -> order_mgmt_orders (order_id));
diesel::joinable!(order_mgmt_order_events -> order_mgmt_orders (order_id));
diesel::joinable!(order_mgmt_order_lines -> order_mgmt_orders (order_id));
diesel::joinable!(order_mgmt_orders -> customer_mgmt_customers (customer_id));
diesel::joinable!(order_mgmt_return_lines -> order_mgmt_order_lines (line_id));
diesel::joinable!(order_mgmt_returns -> order_mgmt_orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    customer_mgmt_customers,
    order_mgmt_api_keys,
    order_mgmt_fulfillment_lines,
    order_mgmt_fulfillments,
    order_mgmt_idempotency_keys,
    order_mgmt_order_edits,
    order_mgmt_order_events,
    order_mgmt_order_lines,
    order_mgmt_orders,
    order_mgmt_return_lines,
    order_mgmt_returns,
);
