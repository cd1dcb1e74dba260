//! The storage contract (`order-storage-contract`), unchanged, on SQLite:
//! every test on its own freshly migrated database file.

use std::sync::Arc;

use order_app::idempotency::IdempotencyStore;
use order_app::ports::{ApiKeyStore, OrderEditRepository, OrderNumberAllocator, OrderRepository};
use order_sqlite::testing::TestDatabase;
use order_sqlite::SqliteStore;
use order_storage_contract::{Customers, Storage, TestStorage};

/// A test's own database file.
struct Fresh(TestDatabase);

/// One pool on it.
struct Sqlite(SqliteStore);

impl Storage for Sqlite {
    fn orders(&self) -> Arc<dyn OrderRepository> {
        Arc::new(self.0.orders())
    }
    fn numbers(&self) -> Arc<dyn OrderNumberAllocator> {
        Arc::new(self.0.numbers())
    }
    fn customers(&self) -> Arc<dyn Customers> {
        Arc::new(self.0.customers())
    }
    fn idempotency(&self) -> Arc<dyn IdempotencyStore> {
        Arc::new(self.0.idempotency())
    }
    fn api_keys(&self) -> Arc<dyn ApiKeyStore> {
        Arc::new(self.0.api_keys())
    }
    fn edits(&self) -> Arc<dyn OrderEditRepository> {
        Arc::new(self.0.edits())
    }
}

impl TestStorage for Fresh {
    fn store(&self) -> Box<dyn Storage> {
        Box::new(Sqlite(self.0.store()))
    }
    fn store_with_pool_size(&self, pool_size: u32) -> Box<dyn Storage> {
        Box::new(Sqlite(self.0.store_with_pool_size(pool_size)))
    }
}

order_storage_contract::storage_contract!(Fresh(TestDatabase::new()));
