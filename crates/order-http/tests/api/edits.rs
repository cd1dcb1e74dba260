//! Edits after confirmation: begin, stage, preview, commit, discard.

use crate::support::*;

/// A confirmed order and an open edit of it (version 1, no change).
fn confirmed_and_edit() -> (Order, OrderEdit) {
    let order = order_in(OrderStatus::Confirmed);
    let edit = order
        .begin_edit(EditId::from_uuid(Uuid::now_v7()), now())
        .unwrap();
    (order, edit)
}

fn edit_path(order: &Order, edit: &OrderEdit) -> String {
    format!("{ORDERS}/{}/edits/{}", order.id(), edit.id())
}

/// `order`'s first line lowered to 1 unit, staged on `edit`.
fn lower_first_line(order: &Order, edit: &mut OrderEdit) {
    order
        .stage_edit(
            edit,
            EditChange::SetQuantity {
                line_id: order.lines()[0].id(),
                quantity: Quantity::new(1).unwrap(),
            },
            now(),
        )
        .unwrap();
}

impl Mocks {
    /// `find` of the edit repository answers `edit` for its id; `update` succeeds.
    fn edit_stored(mut self, edit: &OrderEdit) -> Self {
        let edit = edit.clone();
        self.edits
            .expect_find()
            .returning(move |id| Ok((id == edit.id()).then(|| edit.clone())));
        self.edits.expect_update().returning(|_, _, _| Ok(()));
        self
    }
}

#[actix_web::test]
async fn an_edit_begins_with_201_its_location_and_the_order_version_it_is_based_on() {
    let order = order_in(OrderStatus::Processing);
    let mut mocks = Mocks::new().stored(&order);
    mocks
        .edits
        .expect_insert()
        .times(1)
        .returning(|_, _| Ok(()));
    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/edits", order.id()))
        .insert_header((header::IF_MATCH, format!("\"{}\"", order.version())));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 201, "{body}");
    let edit = &body["data"];
    assert_eq!(edit["state"], "open");
    assert_eq!(edit["base_version"], order.version());
    assert_eq!(edit["version"], 1);
    assert_eq!(edit["changes"], json!([]));
    assert!(edit.get("preview").is_none(), "only GET previews");
    assert_eq!(
        headers.get(header::LOCATION).unwrap().to_str().unwrap(),
        format!(
            "{ORDERS}/{}/edits/{}",
            order.id(),
            edit["id"].as_str().unwrap()
        )
    );
}

#[actix_web::test]
async fn a_pending_order_is_edited_through_its_lines_not_an_edit() {
    let order = order_in(OrderStatus::Pending);
    let mut mocks = Mocks::new().stored(&order);
    mocks.edits.expect_insert().never();
    let req = test::TestRequest::post().uri(&format!("{ORDERS}/{}/edits", order.id()));
    let (status, headers, body) = call(mocks, req).await;
    problem(status, &headers, &body, "invalid_order_status");
    assert_eq!(status, 409);
}

#[actix_web::test]
async fn staged_changes_are_answered_with_the_edit_in_staging_order() {
    let (order, edit) = confirmed_and_edit();
    let product = Uuid::now_v7();
    let req = post_json(
        &format!("{}/changes", edit_path(&order, &edit)),
        json!({"changes": [
            {"kind": "add_line", "product_id": product, "quantity": 2, "unit_price": 1250,
             "currency": "USD", "description": "Scarf", "tax_rate": "19"},
            {"kind": "set_quantity", "line_id": order.lines()[0].id().to_string(), "quantity": 1},
            {"kind": "remove_line", "line_id": order.lines()[1].id().to_string()},
        ]}),
    );
    let (status, _, body) = call(Mocks::new().stored(&order).edit_stored(&edit), req).await;
    assert_eq!(status, 200, "{body}");
    let changes = &body["data"]["changes"];
    assert_eq!(body["data"]["version"], 4);
    assert_eq!(changes[0]["kind"], "add_line");
    assert_eq!(changes[0]["product_id"], product.to_string());
    assert_eq!(changes[0]["unit_price"]["formatted"], "12.50");
    assert_eq!(changes[0]["tax_rate"], "19");
    assert_eq!(changes[1]["kind"], "set_quantity");
    assert_eq!(changes[1]["quantity"], 1);
    assert_eq!(changes[2]["kind"], "remove_line");
}

#[actix_web::test]
async fn staging_refusals_carry_their_codes() {
    let order = order_in(OrderStatus::Processing);
    let mut shipped = order.clone();
    shipped
        .create_fulfillment(
            NewFulfillment {
                id: FulfillmentId::from_uuid(Uuid::now_v7()),
                lines: vec![LineQuantity {
                    line_id: order.lines()[0].id(),
                    quantity: Quantity::new(2).unwrap(),
                }],
                carrier: None,
                tracking_number: None,
            },
            now(),
        )
        .unwrap();
    shipped.take_events();
    let edit = shipped
        .begin_edit(EditId::from_uuid(Uuid::now_v7()), now())
        .unwrap();
    let first = order.lines()[0].id().to_string();
    let cases = [
        (
            json!({"changes": [{"kind": "set_quantity", "line_id": first, "quantity": 1}]}),
            409,
            "quantity_below_shipped",
        ),
        (
            json!({"changes": [{"kind": "remove_line", "line_id": first}]}),
            409,
            "quantity_below_shipped",
        ),
        (
            json!({"changes": [{"kind": "remove_line", "line_id": Uuid::now_v7()}]}),
            404,
            "line_not_found",
        ),
        (
            json!({"changes": [{"kind": "set_quantity", "line_id": first, "quantity": 0}]}),
            422,
            "invalid_quantity",
        ),
        (
            json!({"changes": [{"kind": "add_line", "product_id": Uuid::now_v7(),
                "quantity": 1, "unit_price": 100, "currency": "EUR"}]}),
            422,
            "currency_mismatch",
        ),
        (json!({"changes": []}), 422, "no_lines_given"),
        (
            json!({"changes": [{"kind": "rename", "line_id": first}]}),
            422,
            "invalid_body",
        ),
    ];
    for (body, want_status, code) in cases {
        let req = post_json(
            &format!("{}/changes", edit_path(&shipped, &edit)),
            body.clone(),
        );
        let mut mocks = Mocks::new().stored(&shipped);
        let stored = edit.clone();
        mocks
            .edits
            .expect_find()
            .returning(move |_| Ok(Some(stored.clone())));
        mocks.edits.expect_update().never();
        let (status, headers, answer) = call(mocks, req).await;
        assert_eq!(status, want_status, "{body}: {answer}");
        problem(status, &headers, &answer, code);
    }
}

#[actix_web::test]
async fn get_shows_the_preview_of_an_open_current_edit() {
    let (order, mut edit) = confirmed_and_edit();
    lower_first_line(&order, &mut edit);
    let req = test::TestRequest::get().uri(&edit_path(&order, &edit));
    let (status, _, body) = call(Mocks::new().stored(&order).edit_stored(&edit), req).await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["stale"], false);
    let preview = &data["preview"];
    // 3 × 100.00 lowered to 1: 450.00 becomes 250.00, 200.00 to refund.
    assert_eq!(preview["before"]["total"]["amount"], 45_000);
    assert_eq!(preview["after"]["total"]["amount"], 25_000);
    assert_eq!(preview["difference"]["amount"], -20_000);
    assert_eq!(preview["difference"]["formatted"], "-200.00");
    assert_eq!(
        preview["diff"],
        json!([{"change": "quantity_changed", "line_id": order.lines()[0].id().to_string(),
                "old_quantity": 3, "new_quantity": 1}])
    );
}

#[actix_web::test]
async fn an_edit_of_an_order_that_moved_on_is_stale_without_a_preview() {
    let (mut order, edit) = confirmed_and_edit();
    order.start_processing(now()).unwrap();
    order.take_events();
    let req = test::TestRequest::get().uri(&edit_path(&order, &edit));
    let (status, _, body) = call(Mocks::new().stored(&order).edit_stored(&edit), req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["stale"], true);
    assert!(body["data"].get("preview").is_none());
}

#[actix_web::test]
async fn a_missing_or_malformed_edit_id_is_404_or_400() {
    let (order, edit) = confirmed_and_edit();
    let mut mocks = Mocks::new().stored(&order);
    mocks.edits.expect_find().returning(|_| Ok(None));
    let req = test::TestRequest::get().uri(&edit_path(&order, &edit));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 404);
    problem(status, &headers, &body, "edit_not_found");

    let req = test::TestRequest::get().uri(&format!("{ORDERS}/{}/edits/nope", order.id()));
    let (status, headers, body) = call(Mocks::new(), req).await;
    assert_eq!(status, 400);
    problem(status, &headers, &body, "invalid_parameter");
}

#[actix_web::test]
async fn a_commit_answers_the_edited_order_with_its_new_etag() {
    let (order, mut edit) = confirmed_and_edit();
    lower_first_line(&order, &mut edit);
    let version = order.version();
    let mut mocks = Mocks::new().stored(&order).edit_stored(&edit);
    mocks
        .edits
        .expect_commit()
        .withf(move |_, expected_order, _, expected_edit, _| {
            *expected_order == version && *expected_edit == 2
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let req = test::TestRequest::post()
        .uri(&format!("{}/commit", edit_path(&order, &edit)))
        .insert_header((header::IF_MATCH, format!("\"{version}\"")));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers.get(header::ETAG).unwrap(),
        &format!("\"{}\"", version + 1)
    );
    assert_eq!(body["data"]["lines"][0]["quantity"], 1);
    assert_eq!(body["data"]["total"]["amount"], 25_000);
    assert_eq!(body["data"]["status"], "confirmed");
}

#[actix_web::test]
async fn a_commit_onto_a_changed_order_is_412_edit_stale_and_a_wrong_if_match_412_too() {
    let (mut order, mut edit) = confirmed_and_edit();
    lower_first_line(&order, &mut edit);
    order.start_processing(now()).unwrap();
    order.take_events();
    let mut mocks = Mocks::new().stored(&order).edit_stored(&edit);
    mocks.edits.expect_commit().never();
    let req = test::TestRequest::post().uri(&format!("{}/commit", edit_path(&order, &edit)));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 412);
    problem(status, &headers, &body, "edit_stale");

    let mut mocks = Mocks::new().stored(&order).edit_stored(&edit);
    mocks.edits.expect_commit().never();
    let req = test::TestRequest::post()
        .uri(&format!("{}/commit", edit_path(&order, &edit)))
        .insert_header((header::IF_MATCH, format!("\"{}\"", order.version() - 1)));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 412);
    problem(status, &headers, &body, "version_mismatch");
}

#[actix_web::test]
async fn a_discard_answers_the_discarded_edit_and_a_second_one_409() {
    let (order, edit) = confirmed_and_edit();
    let req = test::TestRequest::delete().uri(&edit_path(&order, &edit));
    let (status, _, body) = call(Mocks::new().stored(&order).edit_stored(&edit), req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["state"], "discarded");

    let mut discarded = edit.clone();
    discarded.discard(now()).unwrap();
    let req = test::TestRequest::delete().uri(&edit_path(&order, &discarded));
    let (status, headers, body) =
        call(Mocks::new().stored(&order).edit_stored(&discarded), req).await;
    assert_eq!(status, 409);
    problem(status, &headers, &body, "edit_not_open");
}

#[actix_web::test]
async fn a_retried_begin_replays_the_first_edit_byte_for_byte() {
    let (order, edit) = confirmed_and_edit();
    let claimed = ClaimedKey {
        key: IdempotencyKey {
            scope: "POST /api/v1/order-mgmt/orders/{id}/edits".into(),
            key: "begin-1".into(),
        },
        token: "t".into(),
    };
    let request = || {
        test::TestRequest::post()
            .uri(&format!("{ORDERS}/{}/edits", order.id()))
            .insert_header(("Idempotency-Key", "begin-1"))
    };
    let written = Arc::new(std::sync::Mutex::new(None::<OrderEdit>));
    let mut mocks = Mocks::new().stored(&order);
    let sink = written.clone();
    let claim = claimed.clone();
    mocks
        .idempotency
        .expect_begin()
        .withf(|key, _, _, _| key.scope == "POST /api/v1/order-mgmt/orders/{id}/edits")
        .returning(move |_, _, _, _| Ok(Claim::Acquired(claim.clone())));
    mocks
        .edits
        .expect_insert()
        .times(1)
        .returning(move |edit, claim| {
            assert!(claim.is_some(), "the claim travels with the insert");
            *sink.lock().unwrap() = Some(edit.clone());
            Ok(())
        });
    mocks.idempotency.expect_refuse().never();
    mocks.idempotency.expect_release().never();
    let (status, first_headers, first) = call(mocks, request()).await;
    assert_eq!(status, 201, "{first}");

    let stored = written.lock().unwrap().clone().unwrap();
    assert_ne!(stored.id(), edit.id());
    let mut mocks = Mocks::new();
    mocks.edits.expect_insert().never();
    mocks
        .idempotency
        .expect_begin()
        .returning(move |_, _, _, _| Ok(Claim::Replay(Outcome::Edit(Box::new(stored.clone())))));
    let (status, headers, replay) = call(mocks, request()).await;
    assert_eq!(status, 201);
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        headers.get(header::LOCATION),
        first_headers.get(header::LOCATION)
    );
    assert_eq!(replay, first);
}

#[actix_web::test]
async fn a_malformed_x_actor_is_refused_on_every_edit_write() {
    let (order, edit) = confirmed_and_edit();
    let too_long = "a".repeat(Actor::MAX_CHARS + 1);
    let requests = [
        test::TestRequest::post().uri(&format!("{ORDERS}/{}/edits", order.id())),
        post_json(
            &format!("{}/changes", edit_path(&order, &edit)),
            json!({"changes": [{"kind": "remove_line", "line_id": order.lines()[1].id().to_string()}]}),
        ),
        test::TestRequest::post().uri(&format!("{}/commit", edit_path(&order, &edit))),
        test::TestRequest::delete().uri(&edit_path(&order, &edit)),
    ];
    for req in requests {
        let mut mocks = Mocks::new().stored(&order);
        let stored = edit.clone();
        mocks
            .edits
            .expect_find()
            .returning(move |_| Ok(Some(stored.clone())));
        mocks.edits.expect_insert().never();
        mocks.edits.expect_update().never();
        mocks.edits.expect_commit().never();
        let (status, headers, body) =
            call(mocks, req.insert_header(("X-Actor", too_long.as_str()))).await;
        assert_eq!(status, 400, "{body}");
        problem(status, &headers, &body, "invalid_parameter");
    }
}

#[actix_web::test]
async fn an_edit_that_changes_nothing_is_not_committed() {
    let (order, edit) = confirmed_and_edit();
    let mut mocks = Mocks::new().stored(&order).edit_stored(&edit);
    mocks.edits.expect_commit().never();
    let req = test::TestRequest::post().uri(&format!("{}/commit", edit_path(&order, &edit)));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 409);
    problem(status, &headers, &body, "edit_empty");
}

#[actix_web::test]
async fn a_malformed_x_actor_is_400_even_when_if_match_could_never_hold() {
    // Schemathesis found it: only foreign tags in If-Match answered 412
    // before the malformed header was looked at.
    let (order, _) = confirmed_and_edit();
    let mut mocks = Mocks::new().stored(&order);
    mocks.edits.expect_insert().never();
    let req = test::TestRequest::post()
        .uri(&format!("{ORDERS}/{}/edits", order.id()))
        .insert_header(("X-Actor", ""))
        .insert_header((header::IF_MATCH, r#""a", "b""#));
    let (status, headers, body) = call(mocks, req).await;
    assert_eq!(status, 400, "{body}");
    problem(status, &headers, &body, "invalid_parameter");
}
