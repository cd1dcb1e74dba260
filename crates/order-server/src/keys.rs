//! `order-server keys create|list|revoke`: the key use cases on the
//! configured database, printed for a terminal. A created key's text is the
//! only thing written to stdout, so `KEY=$(order-server keys create ...)` works.

use std::sync::Arc;

use order_app::access::{ApiKey, ApiKeys, KeyId, KeyPorts, NewApiKey, Scopes};
use order_app::ports::{OsSecretSource, SystemClock, UuidV7Generator};
use order_domain::CustomerId;

use crate::config::KeysCommand;
use crate::storage::Storage;

/// Runs one key command.
pub fn run(storage: &Storage, command: KeysCommand) -> Result<(), String> {
    let keys = ApiKeys::new(KeyPorts {
        store: storage.api_keys.clone(),
        customers: storage.directory.clone(),
        secrets: Arc::new(OsSecretSource),
        clock: Arc::new(SystemClock),
        ids: Arc::new(UuidV7Generator),
    });
    match command {
        KeysCommand::Create {
            name,
            scopes,
            customer,
        } => {
            let scopes = Scopes::parse_list(&scopes).map_err(|e| e.to_string())?;
            let issued = keys
                .create(NewApiKey {
                    name,
                    scopes,
                    customer: customer.map(CustomerId::from_uuid),
                })
                .map_err(|e| format!("cannot create the key: {e}"))?;
            eprintln!(
                "created API key {} ({}) for {:?}, scopes {}{}.\n\
                 Its text follows, once: store it now, it cannot be shown again.",
                issued.key.id(),
                issued.key.prefix(),
                issued.key.name(),
                issued.key.scopes(),
                issued
                    .key
                    .customer()
                    .map(|c| format!(", bound to customer {c}"))
                    .unwrap_or_default(),
            );
            println!("{}", issued.token);
        }
        KeysCommand::List => {
            let listed = keys.list().map_err(|e| format!("cannot list keys: {e}"))?;
            println!(
                "{:<36}  {:<16}  {:<7}  {:<36}  {:<20}  {:<20}  NAME",
                "ID", "PREFIX", "STATE", "CUSTOMER", "CREATED", "SCOPES"
            );
            for key in &listed {
                println!("{}", row(key));
            }
        }
        KeysCommand::Revoke { id } => {
            let key = keys
                .revoke(KeyId::from_uuid(id))
                .map_err(|e| format!("cannot revoke key {id}: {e}"))?;
            println!(
                "revoked API key {} ({}, {:?}) at {}",
                key.id(),
                key.prefix(),
                key.name(),
                key.revoked_at().map(|t| t.to_rfc3339()).unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn row(key: &ApiKey) -> String {
    format!(
        "{:<36}  {:<16}  {:<7}  {:<36}  {:<20}  {:<20}  {}",
        key.id(),
        key.prefix(),
        if key.revoked_at().is_some() {
            "revoked"
        } else {
            "active"
        },
        key.customer()
            .map_or_else(|| "-".to_owned(), |c| c.to_string()),
        key.created_at().format("%Y-%m-%dT%H:%M:%SZ"),
        key.scopes(),
        key.name(),
    )
}
