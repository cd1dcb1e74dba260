//! Issue 16 through the API: shipping in parts, returns with exact refunds,
//! and the races that must never over-ship or over-refund.

use std::sync::Arc;

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};

use crate::helpers::*;

/// A processing order with the given lines (`quantity`, `unit_price`); returns
/// its id and its line ids in order.
async fn processing(api: &Client, lines: &[(i64, i64)]) -> (String, Vec<String>) {
    let customer = api.customer().await;
    let order = api.order(&customer).await;
    let mut body = Value::Null;
    for (quantity, price) in lines {
        body = api.line(&order, *quantity, *price).await;
    }
    let ids = body["data"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    for step in ["confirm", "process"] {
        let (status, body) = api.post(&format!("{ORDERS}/{order}/{step}"), None).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    (order, ids)
}

fn ship(line: &str, quantity: i64) -> Value {
    json!({"lines": [{"line_id": line, "quantity": quantity}], "carrier": "DHL", "tracking_number": "JD1"})
}

fn give_back(line: &str, quantity: i64) -> Value {
    json!({"lines": [{"line_id": line, "quantity": quantity}], "reason": "damaged"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_shipments_of_one_line_never_ship_more_than_ordered() {
    let server = RunningServer::start();
    let api = Arc::new(server.client());
    // A second line keeps the order processing, so every loser meets the
    // line's own limit, not a status change.
    let (order, lines) = processing(&api, &[(10, 1_000), (1, 500)]).await;
    let line = Arc::new(lines[0].clone());
    let order = Arc::new(order);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (api, order, line) = (api.clone(), order.clone(), line.clone());
            tokio::spawn(async move {
                api.post(
                    &format!("{ORDERS}/{order}/fulfillments"),
                    Some(ship(&line, 1)),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created += 1,
            409 => assert_eq!(body["code"], "quantity_exceeds_unshipped", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 10, "exactly the ordered units shipped");
    let (_, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(body["data"]["lines"][0]["shipped_quantity"], 10);
    assert_eq!(body["data"]["fulfillment_status"], "partially_fulfilled");
    let (_, shipments) = api.get(&format!("{ORDERS}/{order}/fulfillments")).await;
    assert_eq!(shipments["data"].as_array().unwrap().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_returns_never_refund_more_than_was_paid() {
    let server = RunningServer::start();
    let api = Arc::new(server.client());
    // 3 × 33.33 = 99.99: a third of it is not a whole number of cents.
    let (order, lines) = processing(&api, &[(3, 3_333)]).await;
    let (status, body) = api
        .post(
            &format!("{ORDERS}/{order}/fulfillments"),
            Some(ship(&lines[0], 3)),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["status"], "fulfilled");
    let (order, line) = (Arc::new(order), Arc::new(lines[0].clone()));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (api, order, line) = (api.clone(), order.clone(), line.clone());
            tokio::spawn(async move {
                api.post(
                    &format!("{ORDERS}/{order}/returns"),
                    Some(give_back(&line, 1)),
                )
                .await
            })
        })
        .collect();
    let mut refunds = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => refunds.push(body["data"]["refund_amount"]["amount"].as_i64().unwrap()),
            409 => assert_eq!(body["code"], "quantity_exceeds_returnable", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(refunds.len(), 3);
    refunds.sort_unstable();
    assert_eq!(refunds, [3_333, 3_333, 3_333]);
    assert_eq!(refunds.iter().sum::<i64>(), 9_999, "exactly what was paid");
    let (_, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(body["data"]["refunded_total"]["amount"], 9_999);
    assert_eq!(body["data"]["return_status"], "returned");
}

#[derive(QueryableByName)]
struct EventType {
    #[diesel(sql_type = Text)]
    event_type: String,
}

fn event_types(server: &RunningServer, order: &str) -> Vec<String> {
    let mut conn = PgConnection::establish(&server.database_url()).unwrap();
    diesel::sql_query(format!(
        "SELECT event_type FROM order_mgmt_order_events WHERE order_id = '{order}' ORDER BY version"
    ))
    .load::<EventType>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|e| e.event_type)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_ships_in_two_parts_and_takes_part_of_it_back() {
    let server = RunningServer::start();
    let api = server.client();
    // 3 × 100.00 and 2 × 7.50.
    let (order, lines) = processing(&api, &[(3, 10_000), (2, 750)]).await;
    let (a, b) = (&lines[0], &lines[1]);

    // First part, idempotently: a retry answers the same and ships nothing more.
    let first = || {
        api.http
            .post(format!("{}{ORDERS}/{order}/fulfillments", api.base))
            .header("Idempotency-Key", "ship-part-1")
            .json(&json!({"lines": [{"line_id": a, "quantity": 2}, {"line_id": b, "quantity": 1}], "carrier": "UPS"}))
            .send()
    };
    let response = first().await.unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["fulfillment_status"], "partially_fulfilled");
    assert_eq!(body["data"]["status"], "processing");
    assert_eq!(body["data"]["lines"][0]["shipped_quantity"], 2);
    let replay = first().await.unwrap();
    assert_eq!(replay.status().as_u16(), 201);
    assert_eq!(replay.headers()["location"].to_str().unwrap(), location);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let (status, shipment) = api.get(location.trim_start_matches(&api.base)).await;
    assert_eq!(status, 200, "{shipment}");
    assert_eq!(shipment["data"]["carrier"], "UPS");
    assert_eq!(shipment["data"]["lines"].as_array().unwrap().len(), 2);

    // Cancelling is refused now that something shipped.
    let (status, body) = api.post(&format!("{ORDERS}/{order}/cancel"), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("order_has_shipments"))
    );

    // Too much for the second part is refused and changes nothing.
    let (status, body) = api
        .post(&format!("{ORDERS}/{order}/fulfillments"), Some(ship(a, 2)))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("quantity_exceeds_unshipped"))
    );

    // The rest, through the description's /fulfill: ships what is left.
    let (status, body) = api.post(&format!("{ORDERS}/{order}/fulfill"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "fulfilled");
    assert_eq!(body["data"]["fulfillment_status"], "fulfilled");
    assert_eq!(body["data"]["lines"][1]["shipped_quantity"], 2);
    let (_, shipments) = api.get(&format!("{ORDERS}/{order}/fulfillments")).await;
    assert_eq!(shipments["data"].as_array().unwrap().len(), 2);

    // One of the three 100.00 units comes back.
    let (status, body) = api
        .post(&format!("{ORDERS}/{order}/returns"), Some(give_back(a, 1)))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["data"]["refund_amount"],
        json!({"amount": 10_000, "currency": "USD", "formatted": "100.00"})
    );
    assert_eq!(body["data"]["reason"], "damaged");
    let (_, body) = api.get(&format!("{ORDERS}/{order}")).await;
    assert_eq!(body["data"]["return_status"], "partially_returned");
    assert_eq!(body["data"]["refunded_total"]["amount"], 10_000);
    assert_eq!(body["data"]["lines"][0]["returned_quantity"], 1);
    // More than shipped-and-not-returned is refused.
    let (status, body) = api
        .post(&format!("{ORDERS}/{order}/returns"), Some(give_back(b, 3)))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("quantity_exceeds_returnable"))
    );

    let types = event_types(&server, &order);
    assert_eq!(
        types[types.len() - 4..],
        [
            "order.processing_started",
            "order.fulfillment_created",
            "order.fulfilled",
            "order.return_created"
        ]
    );
}
