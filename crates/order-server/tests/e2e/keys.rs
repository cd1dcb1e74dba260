//! `order-server keys create|list|revoke` against the server's own database.

use crate::helpers::RunningServer;

#[test]
fn keys_are_created_listed_and_revoked_from_the_command_line_and_the_secret_is_shown_once() {
    let server = RunningServer::start();
    let token = server.create_key("storefront", "orders:write, customers:read", None);
    assert!(token.starts_with("omk_"), "{token}");
    assert_eq!(token.len(), 81, "omk_ + 12 + _ + 64: {token}");
    let (prefix, secret) = token.rsplit_once('_').unwrap();

    let (ok, listed, stderr) = server.keys(&["list"]);
    assert!(ok, "{stderr}");
    let row = listed
        .lines()
        .find(|l| l.contains(prefix))
        .unwrap_or_else(|| panic!("{prefix} listed: {listed}"));
    assert!(
        row.contains("active") && row.contains("storefront"),
        "{row}"
    );
    assert!(row.contains("orders:write,customers:read"), "{row}");
    assert!(!listed.contains(secret), "the secret is never shown again");
    let id = row.split_whitespace().next().unwrap();

    let (ok, revoked, _) = server.keys(&["revoke", id]);
    assert!(ok, "{revoked}");
    assert!(revoked.contains(prefix));
    let (_, listed, _) = server.keys(&["list"]);
    assert!(listed
        .lines()
        .any(|l| l.contains(prefix) && l.contains("revoked")));
}

#[test]
fn bad_key_requests_fail_with_a_message_and_create_nothing() {
    let server = RunningServer::start();
    for (why, args) in [
        (
            "unknown scope",
            vec!["create", "--name", "x", "--scopes", "orders:all"],
        ),
        (
            "unknown customer",
            vec![
                "create",
                "--name",
                "x",
                "--scopes",
                "orders:read",
                "--customer",
                "01900000-0000-7000-8000-000000000000",
            ],
        ),
        (
            "empty name",
            vec!["create", "--name", " ", "--scopes", "orders:read"],
        ),
        (
            "unknown key",
            vec!["revoke", "01900000-0000-7000-8000-000000000000"],
        ),
    ] {
        let (ok, stdout, stderr) = server.keys(&args);
        assert!(!ok, "{why}");
        assert!(
            stdout.trim().is_empty(),
            "{why}: nothing on stdout: {stdout}"
        );
        assert!(stderr.contains("order-server:"), "{why}: {stderr}");
    }
    let (_, listed, _) = server.keys(&["list"]);
    assert_eq!(listed.lines().count(), 1, "only the header: {listed}");
}
