//! diesel's view of `migrations-sqlite/` (written by hand: `diesel print-schema`
//! would need a database; the tests run the migrations and every query, so a
//! mismatch fails them).

diesel::table! {
    customer_mgmt_customers (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        source -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    order_mgmt_orders (id) {
        id -> Text,
        order_number -> Text,
        customer_id -> Text,
        company_id -> Nullable<Text>,
        status -> Text,
        currency -> Text,
        subtotal -> BigInt,
        tax -> BigInt,
        discount -> BigInt,
        total -> BigInt,
        version -> BigInt,
        created_at -> Text,
        updated_at -> Text,
        deleted_at -> Nullable<Text>,
        confirmed_at -> Nullable<Text>,
        processing_started_at -> Nullable<Text>,
        fulfilled_at -> Nullable<Text>,
        cancelled_at -> Nullable<Text>,
        cancellation_reason -> Nullable<Text>,
        prices_include_tax -> Bool,
        discounts -> Text,
    }
}

diesel::table! {
    order_mgmt_order_lines (id) {
        id -> Text,
        order_id -> Text,
        product_id -> Text,
        quantity -> BigInt,
        unit_price -> BigInt,
        subtotal -> BigInt,
        description -> Nullable<Text>,
        sku -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
        tax_rate_millionths -> BigInt,
        tax_category -> Nullable<Text>,
        discount -> BigInt,
        tax -> BigInt,
        total -> BigInt,
        shipped_quantity -> BigInt,
        returned_quantity -> BigInt,
    }
}

diesel::table! {
    order_mgmt_order_numbers (id) {
        id -> BigInt,
        last -> BigInt,
    }
}

diesel::table! {
    order_mgmt_order_events (id) {
        id -> BigInt,
        event_id -> Text,
        order_id -> Text,
        version -> BigInt,
        event_type -> Text,
        occurred_at -> Text,
        actor_id -> Text,
        payload -> Text,
        published_at -> Nullable<Text>,
    }
}

diesel::table! {
    order_mgmt_idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        fingerprint -> Text,
        state -> Text,
        token -> Text,
        created_at -> Text,
        locked_at -> Text,
        completed_at -> Nullable<Text>,
        outcome -> Nullable<Text>,
        refusal -> Nullable<Binary>,
    }
}

diesel::table! {
    order_mgmt_api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        secret_digest -> Binary,
        scopes -> Text,
        customer_id -> Nullable<Text>,
        created_at -> Text,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    order_mgmt_fulfillments (order_id, id) {
        order_id -> Text,
        id -> Text,
        position -> BigInt,
        carrier -> Nullable<Text>,
        tracking_number -> Nullable<Text>,
        created_at -> Text,
    }
}

diesel::table! {
    order_mgmt_fulfillment_lines (order_id, fulfillment_id, line_id) {
        order_id -> Text,
        fulfillment_id -> Text,
        line_id -> Text,
        position -> BigInt,
        quantity -> BigInt,
    }
}

diesel::table! {
    order_mgmt_returns (order_id, id) {
        order_id -> Text,
        id -> Text,
        position -> BigInt,
        reason -> Text,
        refund_amount -> BigInt,
        created_at -> Text,
    }
}

diesel::table! {
    order_mgmt_return_lines (order_id, return_id, line_id) {
        order_id -> Text,
        return_id -> Text,
        line_id -> Text,
        position -> BigInt,
        quantity -> BigInt,
        refund -> BigInt,
    }
}

diesel::table! {
    order_mgmt_order_edits (id) {
        id -> Text,
        order_id -> Text,
        base_version -> BigInt,
        state -> Text,
        version -> BigInt,
        changes -> Text,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::joinable!(order_mgmt_order_lines -> order_mgmt_orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(order_mgmt_orders, order_mgmt_order_lines);
