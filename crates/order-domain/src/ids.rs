//! Typed identifiers, so an order id can never be passed where a product id is expected.

use std::fmt;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID (new ids are UUID v7, made by the application's id generator).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_type!(
    /// Identifies an [`crate::Order`].
    OrderId
);
id_type!(
    /// Identifies an [`crate::OrderLine`] within its order.
    LineId
);
id_type!(
    /// Identifies a customer of the Customer Management context.
    CustomerId
);
id_type!(
    /// Identifies a B2B company the order is placed for.
    CompanyId
);
id_type!(
    /// Identifies a product of the catalogue (owned by another context).
    ProductId
);
id_type!(
    /// Identifies a [`crate::Discount`] within its order.
    DiscountId
);
id_type!(
    /// Identifies a [`crate::Fulfillment`] (one shipment) within its order.
    FulfillmentId
);
id_type!(
    /// Identifies a [`crate::Return`] within its order.
    ReturnId
);
id_type!(
    /// Identifies an [`crate::OrderEdit`] of an order.
    EditId
);
