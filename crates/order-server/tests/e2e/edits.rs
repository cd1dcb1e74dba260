//! Issue 16, edits after confirmation, through the real binary: the whole
//! life of an edited order (taxed lines, a discount, an edit with its
//! preview, shipments in two parts, a return), and an edit commit racing a
//! shipment; each on PostgreSQL and on the embedded SQLite store.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::helpers::*;

/// Adds a taxed line; returns the order body.
async fn taxed_line(api: &Client, order: &str, quantity: i64, cents: i64, rate: &str) -> Value {
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{order}/lines"),
            Some(
                json!({"product_id": uuid::Uuid::now_v7(), "quantity": quantity,
                        "unit_price": cents, "currency": "USD", "tax_rate": rate}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

fn amount(money: &Value) -> i64 {
    money["amount"].as_i64().unwrap()
}

/// The order's status, fulfilment status, version and total.
async fn state(api: &Client, order: &str) -> (String, String, u64, i64) {
    let (status, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    (
        data["status"].as_str().unwrap().to_owned(),
        data["fulfillment_status"].as_str().unwrap().to_owned(),
        data["version"].as_u64().unwrap(),
        amount(&data["total"]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_is_edited_after_confirmation_then_shipped_in_two_parts_and_partly_returned() {
    let server = RunningServer::start();
    edited_order_life(&server.client()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_edited_order_life_on_the_embedded_store() {
    let dir = crate::embedded::WorkDir::new();
    let server = RunningServer::start_embedded(&dir.0, &[]);
    edited_order_life(&server.client()).await;
}

/// Create, taxed lines and a discount, confirm, edit with its preview,
/// commit, a stale edit, process, ship in two parts, return one unit; every
/// state and the history checked on the way.
async fn edited_order_life(api: &Client) {
    let customer = api.customer().await;
    let order = api.order(&customer).await;

    // A: 3 × 20.00 at 19 %, B: 2 × 10.00 at 7.5 %, 10 % off the order.
    taxed_line(api, &order, 3, 2_000, "19").await;
    let body = taxed_line(api, &order, 2, 1_000, "7.5").await;
    let a = body["data"]["lines"][0]["id"].as_str().unwrap().to_owned();
    let b = body["data"]["lines"][1]["id"].as_str().unwrap().to_owned();
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{order}/discounts"),
            Some(json!({"kind": "percentage", "percent": "10", "code": "WELCOME10"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // Subtotal 80.00, discount 8.00 (6.00 on A, 2.00 on B), tax 54.00 × 19 %
    // = 10.26 plus 18.00 × 7.5 % = 1.35: total 83.61.
    let data = &body["data"];
    assert_eq!(
        [
            amount(&data["subtotal"]),
            amount(&data["discount"]),
            amount(&data["tax"]),
            amount(&data["total"])
        ],
        [8_000, 800, 1_161, 8_361]
    );
    let (status, body) = api.post(&format!("{ORDERS}/{order}/confirm"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        state(api, &order).await,
        ("confirmed".into(), "unfulfilled".into(), 5, 8_361)
    );

    // An edit, begun against version 5.
    let (status, body) = api.post(&format!("{ORDERS}/{order}/edits"), None).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["state"], "open");
    assert_eq!(body["data"]["base_version"], 5);
    let edit = body["data"]["id"].as_str().unwrap().to_owned();
    let edit_path = format!("{ORDERS}/{order}/edits/{edit}");

    // Add C: 1 × 15.00 at 19 %, lower A to 2.
    let product = uuid::Uuid::now_v7();
    let (status, body) = api
        .post(
            &format!("{edit_path}/changes"),
            Some(json!({"changes": [
                {"kind": "add_line", "product_id": product, "quantity": 1, "unit_price": 1_500,
                 "currency": "USD", "tax_rate": "19", "description": "Scarf"},
                {"kind": "set_quantity", "line_id": a, "quantity": 2},
            ]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["version"], 3);
    let c = body["data"]["changes"][0]["line_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Staging did not touch the order.
    assert_eq!(
        state(api, &order).await,
        ("confirmed".into(), "unfulfilled".into(), 5, 8_361)
    );

    // The preview: subtotal 75.00, discount 7.50 (4.00 / 2.00 / 1.50), tax
    // 36.00 × 19 % = 6.84, 18.00 × 7.5 % = 1.35, 13.50 × 19 % = 2.565 → 2.56
    // (half-even): 10.75; total 78.25, 5.36 less than 83.61.
    let (status, body) = api.get(&edit_path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["stale"], false);
    let preview = &body["data"]["preview"];
    assert_eq!(amount(&preview["before"]["total"]), 8_361);
    assert_eq!(
        [
            amount(&preview["after"]["subtotal"]),
            amount(&preview["after"]["discount"]),
            amount(&preview["after"]["tax"]),
            amount(&preview["after"]["total"])
        ],
        [7_500, 750, 1_075, 7_825]
    );
    assert_eq!(
        preview["difference"],
        json!({"amount": -536, "currency": "USD", "formatted": "-5.36"})
    );
    assert_eq!(
        preview["diff"],
        json!([
            {"change": "quantity_changed", "line_id": a, "old_quantity": 3, "new_quantity": 2},
            {"change": "line_added", "line_id": c, "product_id": product, "quantity": 1,
             "unit_price": {"amount": 1_500, "currency": "USD", "formatted": "15.00"},
             "line_subtotal": {"amount": 1_500, "currency": "USD", "formatted": "15.00"}},
        ])
    );

    // Commit with If-Match: one new version, the preview's totals.
    let (status, text) = api
        .send_with_if_match(reqwest::Method::POST, &format!("{edit_path}/commit"), 5)
        .await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let data = &body["data"];
    assert_eq!(data["version"], 6);
    assert_eq!(data["status"], "confirmed");
    assert_eq!(amount(&data["total"]), 7_825);
    let quantities: Vec<(String, u64)> = data["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_owned(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(quantities, [(a.clone(), 2), (b.clone(), 2), (c.clone(), 1)]);
    let (_, body) = api.get(&edit_path).await;
    assert_eq!(body["data"]["state"], "committed");
    assert!(body["data"].get("preview").is_none());
    // A committed edit takes nothing more.
    let (status, body) = api
        .post(
            &format!("{edit_path}/changes"),
            Some(json!({"changes": [{"kind": "remove_line", "line_id": c}]})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("edit_not_open"))
    );

    // An edit begun now goes stale once the order is processed.
    let (status, body) = api.post(&format!("{ORDERS}/{order}/edits"), None).await;
    assert_eq!(status, 201, "{body}");
    let late = body["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = api.post(&format!("{ORDERS}/{order}/process"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        state(api, &order).await,
        ("processing".into(), "unfulfilled".into(), 7, 7_825)
    );
    let (status, body) = api
        .post(&format!("{ORDERS}/{order}/edits/{late}/commit"), None)
        .await;
    assert_eq!((status, body["code"].as_str()), (412, Some("edit_stale")));
    let (_, body) = api.get(&format!("{ORDERS}/{order}/edits/{late}")).await;
    assert_eq!(body["data"]["stale"], true);
    assert_eq!(
        state(api, &order).await.2,
        7,
        "the stale commit changed nothing"
    );

    // Ship in two parts; the second completes the order.
    let ship = |lines: Value| json!({"lines": lines, "carrier": "UPS"});
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{order}/fulfillments"),
            Some(ship(
                json!([{"line_id": a, "quantity": 2}, {"line_id": b, "quantity": 1}]),
            )),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["status"], "processing");
    assert_eq!(body["data"]["fulfillment_status"], "partially_fulfilled");
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{order}/fulfillments"),
            Some(ship(
                json!([{"line_id": b, "quantity": 1}, {"line_id": c, "quantity": 1}]),
            )),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        state(api, &order).await,
        ("fulfilled".into(), "fulfilled".into(), 9, 7_825)
    );

    // One of A's two units comes back: half of what A cost after the edit
    // (40.00 − 4.00 + 6.84 = 42.84), 21.42.
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{order}/returns"),
            Some(json!({"lines": [{"line_id": a, "quantity": 1}], "reason": "too small"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["data"]["refund_amount"],
        json!({"amount": 2_142, "currency": "USD", "formatted": "21.42"})
    );
    let (_, body) = api.get(&format!("{ORDERS}/{order}")).await;
    let data = &body["data"];
    assert_eq!(data["status"], "fulfilled");
    assert_eq!(data["return_status"], "partially_returned");
    assert_eq!(amount(&data["refunded_total"]), 2_142);
    assert_eq!(data["lines"][0]["returned_quantity"], 1);
    assert_eq!(data["version"], 10);

    // The history, as the API reads it back.
    let (status, body) = api.get(&format!("{ORDERS}/{order}/events")).await;
    assert_eq!(status, 200, "{body}");
    let events = body["data"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "order.created",
            "order.line_added",
            "order.line_added",
            "order.discount_added",
            "order.confirmed",
            "order.edited",
            "order.processing_started",
            "order.fulfillment_created",
            "order.fulfillment_created",
            "order.return_created",
        ]
    );
    let sequences: Vec<u64> = events
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=10).collect::<Vec<_>>());
    let edited = &events[5]["data"];
    assert_eq!(edited["edit_id"], edit);
    assert_eq!(amount(&edited["totals"]["before"]["total"]), 8_361);
    assert_eq!(amount(&edited["totals"]["after"]["total"]), 7_825);
    assert_eq!(amount(&edited["difference"]), -536);
    assert_eq!(
        edited["status"],
        json!({"before": "confirmed", "after": "confirmed"})
    );
    let changes = edited["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0],
        json!({"change": "quantity_changed", "line_id": a, "quantity": {"before": 3, "after": 2}})
    );
    assert_eq!(changes[1]["change"], "line_added");
    assert_eq!(changes[1]["line"]["line_id"], c);
    assert_eq!(changes[1]["line"]["quantity"], 1);
    assert_eq!(
        events[8]["data"]["status"],
        json!({"before": "processing", "after": "fulfilled"})
    );
    assert_eq!(amount(&events[9]["data"]["refund_amount"]), 2_142);
}

/// One round of the race: a processing order with a line of 4 (and one of 1,
/// so it stays processing), an edit lowering the line to 2, and a shipment
/// of 3 of it, sent at once.
async fn race_once(api: Arc<Client>) {
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    api.line(&order, 4, 1_000).await;
    let body = api.line(&order, 1, 500).await;
    let line = body["data"]["lines"][0]["id"].as_str().unwrap().to_owned();
    for step in ["confirm", "process"] {
        let (status, body) = api.post(&format!("{ORDERS}/{order}/{step}"), None).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let (status, body) = api.post(&format!("{ORDERS}/{order}/edits"), None).await;
    assert_eq!(status, 201, "{body}");
    let edit = body["data"]["id"].as_str().unwrap().to_owned();
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{order}/edits/{edit}/changes"),
            Some(json!({"changes": [{"kind": "set_quantity", "line_id": line, "quantity": 2}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let commit = {
        let (api, path) = (api.clone(), format!("{ORDERS}/{order}/edits/{edit}/commit"));
        tokio::spawn(async move { api.post(&path, None).await })
    };
    let ship = {
        let (api, path) = (api.clone(), format!("{ORDERS}/{order}/fulfillments"));
        let body = json!({"lines": [{"line_id": line, "quantity": 3}]});
        tokio::spawn(async move { api.post(&path, Some(body)).await })
    };
    let (commit, ship) = (commit.await.unwrap(), ship.await.unwrap());

    let (_, body) = api.get(&format!("{ORDERS}/{order}")).await;
    let line_now = &body["data"]["lines"][0];
    let (quantity, shipped) = (
        line_now["quantity"].as_u64().unwrap(),
        line_now["shipped_quantity"].as_u64().unwrap(),
    );
    assert!(shipped <= quantity, "never over-shipped: {body}");
    let (_, edit_now) = api.get(&format!("{ORDERS}/{order}/edits/{edit}")).await;
    let (_, history) = api.get(&format!("{ORDERS}/{order}/events")).await;
    let edited = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "order.edited")
        .count();
    match (commit.0, ship.0) {
        // The edit landed first: the shipment was checked against 2 units.
        (200, 409) => {
            assert_eq!(ship.1["code"], "quantity_exceeds_unshipped", "{}", ship.1);
            assert_eq!((quantity, shipped), (2, 0));
            assert_eq!(edit_now["data"]["state"], "committed");
            assert_eq!(edited, 1);
        }
        // The shipment landed first: the edit is stale, not applied.
        (412, 201) => {
            assert_eq!(commit.1["code"], "edit_stale", "{}", commit.1);
            assert_eq!((quantity, shipped), (4, 3));
            assert_eq!(edit_now["data"]["state"], "open");
            assert_eq!(edit_now["data"]["stale"], true);
            assert_eq!(edited, 0);
        }
        other => panic!(
            "one must win and the other be refused: {other:?} {} {}",
            commit.1, ship.1
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edit_commit_racing_a_shipment_applies_one_and_refuses_the_other() {
    let server = RunningServer::start();
    let api = Arc::new(server.client());
    // Several rounds so both orders of arrival are likely exercised; each
    // round on its own order.
    for _ in 0..8 {
        race_once(api.clone()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_race_on_the_embedded_store() {
    let dir = crate::embedded::WorkDir::new();
    let server = RunningServer::start_embedded(&dir.0, &[]);
    let api = Arc::new(server.client());
    for _ in 0..8 {
        race_once(api.clone()).await;
    }
}
