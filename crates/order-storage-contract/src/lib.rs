//! # order-storage-contract
//!
//! The storage contract: what every implementation of the persistence ports
//! of `order-app` must do, as one suite of tests each adapter runs unchanged.
//! Round trips, lookups, filters, ordering, numbered and cursor pages, soft
//! delete, the compare-and-set update, lines, discounts, shipments and
//! returns, every constraint that is observable through a port (duplicates,
//! unknown customers, ...), edits after confirmation (staged and committed
//! with a compare-and-set on the order and the edit), the outbox rows behind
//! an order's history,
//! concurrent writers that lose nothing, unique order numbers, idempotency
//! records written in the transaction of their effect, and API keys.
//!
//! An adapter implements [`TestStorage`] (a fresh, isolated store per test:
//! a new database, a new file) and invokes [`storage_contract!`] once in its
//! tests; the macro makes one `#[test]` per contract function, so a failure
//! names the rule that broke. Behaviour only one adapter has (PostgreSQL's
//! advisory locks, `NOTIFY`, query plans, raw-SQL checks of its schema) keeps
//! its own tests beside that adapter.
//!
//! ```text
//! struct Fresh(TestDatabase);
//! impl order_storage_contract::TestStorage for Fresh { /* ... */ }
//! order_storage_contract::storage_contract!(Fresh(TestDatabase::new()));
//! ```

// Test support: a failed expectation panics, as in any test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use order_app::idempotency::IdempotencyStore;
use order_app::ports::{
    ApiKeyStore, CustomerDirectory, CustomerRepository, OrderEditRepository, OrderNumberAllocator,
    OrderRepository,
};

pub mod concurrency;
pub mod customers;
pub mod edits;
pub mod history;
pub mod idempotency;
pub mod keys;
pub mod orders;
pub mod pricing;
pub mod shipments;
pub mod support;

/// Customers as the use cases see them: a repository that is also the
/// directory the order use cases ask.
pub trait Customers: CustomerRepository + CustomerDirectory {}

impl<T: CustomerRepository + CustomerDirectory> Customers for T {}

/// One store's implementations of the persistence ports, sharing its
/// connections (cloned handles, as the server wires them).
pub trait Storage: Send + Sync {
    /// The orders, their lines, events and shipments.
    fn orders(&self) -> Arc<dyn OrderRepository>;
    /// Edits after confirmation, and their commit onto the order.
    fn edits(&self) -> Arc<dyn OrderEditRepository>;
    /// The order number allocator.
    fn numbers(&self) -> Arc<dyn OrderNumberAllocator>;
    /// The customers.
    fn customers(&self) -> Arc<dyn Customers>;
    /// The idempotency records.
    fn idempotency(&self) -> Arc<dyn IdempotencyStore>;
    /// The API keys.
    fn api_keys(&self) -> Arc<dyn ApiKeyStore>;
}

/// A boxed or shared store is a store: tests pass `&store` whatever holds it.
macro_rules! forward_storage {
    ($holder:ident) => {
        impl<S: Storage + ?Sized> Storage for $holder<S> {
            fn orders(&self) -> Arc<dyn OrderRepository> {
                (**self).orders()
            }
            fn edits(&self) -> Arc<dyn OrderEditRepository> {
                (**self).edits()
            }
            fn numbers(&self) -> Arc<dyn OrderNumberAllocator> {
                (**self).numbers()
            }
            fn customers(&self) -> Arc<dyn Customers> {
                (**self).customers()
            }
            fn idempotency(&self) -> Arc<dyn IdempotencyStore> {
                (**self).idempotency()
            }
            fn api_keys(&self) -> Arc<dyn ApiKeyStore> {
                (**self).api_keys()
            }
        }
    };
}
forward_storage!(Box);
forward_storage!(Arc);

/// A fresh, isolated, migrated store for one test, dropped with it.
///
/// Every [`Storage`] it hands out reaches the same data (the same database
/// or file), as two servers on one database would.
pub trait TestStorage {
    /// A store with a small pool.
    fn store(&self) -> Box<dyn Storage>;
    /// A store with `pool_size` connections, for tests of concurrent writers.
    fn store_with_pool_size(&self, pool_size: u32) -> Box<dyn Storage>;
}

/// One `#[test]` per contract function, in a module per part of the
/// contract, each on a fresh store made by `$fresh` (an expression whose
/// value implements [`TestStorage`], evaluated once per test).
#[macro_export]
macro_rules! storage_contract {
    ($fresh:expr) => {
        $crate::__storage_contract_tests!(
            $fresh;
            concurrency: [
                sixteen_writers_adding_lines_to_one_order_lose_none_of_them,
                eight_threads_allocating_500_numbers_each_get_4000_distinct_numbers,
                two_servers_reserving_blocks_never_hand_out_the_same_number,
                lists_read_while_writers_add_lines_pair_every_row_with_its_own_lines,
            ],
            customers: [
                a_customer_reads_back_as_stored,
                a_second_registration_of_an_email_is_a_duplicate,
                customers_are_listed_newest_first_with_their_count,
                the_directory_knows_exactly_the_registered_customers,
            ],
            edits: [
                an_edit_with_every_kind_of_change_reads_back_equal,
                staging_is_a_compare_and_set_on_the_edit_version,
                an_edit_of_an_order_that_does_not_exist_is_not_found,
                a_commit_writes_the_order_its_event_and_the_edit_together,
                a_commit_onto_a_moved_order_or_a_moved_edit_writes_nothing,
                begin_stage_and_commit_replay_what_they_wrote,
                a_commit_racing_a_shipment_of_the_same_version_never_both_land,
            ],
            history: [
                history_pages_by_sequence_and_survives_a_soft_delete,
            ],
            idempotency: [
                a_second_claim_is_in_flight_until_the_first_completes_then_replays_it,
                the_same_key_for_another_request_is_a_mismatch,
                a_write_whose_claim_was_taken_over_is_refused_and_stores_nothing,
                an_update_that_loses_its_race_keeps_the_claim_open,
                an_update_stores_the_order_it_wrote_and_the_line_it_touched,
                a_customer_insert_stores_its_receipt_atomically,
                refusals_are_completed_separately_and_released_claims_can_be_retried,
                purge_deletes_keys_older_than_the_retention,
                concurrent_claims_of_one_key_acquire_it_exactly_once,
                an_order_with_every_field_replays_exactly_as_it_was_written,
                an_expired_key_is_never_replayed_and_is_claimed_afresh,
            ],
            keys: [
                a_key_reads_back_as_stored_by_its_prefix,
                a_prefix_is_unique,
                a_key_for_an_unknown_customer_is_a_constraint_violation,
                the_table_refuses_what_the_application_never_writes,
                revoking_stamps_the_time_once_and_an_unknown_key_is_not_found,
                keys_list_oldest_first_revoked_included,
            ],
            orders: [
                a_round_trip_preserves_every_field_of_an_order_and_its_lines,
                every_state_written_by_update_reads_back_equal,
                an_order_is_found_by_its_number_and_not_by_another,
                inserting_the_same_id_or_number_twice_is_a_duplicate,
                an_order_for_an_unknown_customer_is_unknown_customer,
                lists_filter_by_customer_status_or_both_newest_first,
                pages_are_first_middle_last_and_empty_beyond_with_the_total_on_each,
                soft_deleted_orders_vanish_from_every_read_and_cannot_be_updated,
                an_update_against_a_stale_version_is_a_conflict_and_changes_nothing,
                updating_an_order_that_was_never_stored_is_not_found,
                an_update_that_does_not_advance_the_version_is_refused,
                lines_are_added_changed_and_removed_in_step_with_the_domain,
                every_change_writes_its_events_to_the_outbox_in_order,
                an_update_without_pending_events_still_writes_every_line_change,
                a_transition_leaves_the_stored_lines_untouched,
                cursor_pages_walk_the_whole_list_in_order_without_overlap,
            ],
            pricing: [
                every_pricing_change_written_by_update_reads_back_equal,
            ],
            shipments: [
                shipments_and_returns_read_back_equal_by_id_number_and_list,
                twenty_concurrent_shipments_of_one_line_never_ship_more_than_ordered,
                a_committed_edit_after_a_shipment_reads_back_equal,
                an_edit_commit_racing_a_shipment_applies_both_consistently_or_refuses_one,
            ]
        );
    };
}

/// The expansion of [`storage_contract!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __storage_contract_tests {
    ($fresh:expr; $($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        $(
            mod $module {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[test]
                    fn $name() {
                        let storage = $fresh;
                        $crate::$module::$name(&storage);
                    }
                )*
            }
        )*
    };
}
