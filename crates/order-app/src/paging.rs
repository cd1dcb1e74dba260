//! Pagination and list filters shared by the list use cases and repositories.

use order_domain::{CustomerId, OrderStatus};

use crate::AppError;

/// A validated page request: `page >= 1`, `1 <= page_size <= MAX_PAGE_SIZE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    page_size: u32,
}

impl PageRequest {
    /// Largest page a client may ask for.
    pub const MAX_PAGE_SIZE: u32 = 100;
    /// Page size when the client gives none.
    pub const DEFAULT_PAGE_SIZE: u32 = 20;
    /// The deepest page served; deeper requests are refused rather than
    /// letting a client make the database skip billions of rows.
    pub const MAX_PAGE: u32 = 1_000_000;

    /// Validates a page request.
    ///
    /// # Errors
    /// [`AppError::Validation`] naming `page` or `page_size`.
    pub fn new(page: u32, page_size: u32) -> Result<Self, AppError> {
        if !(1..=Self::MAX_PAGE).contains(&page) {
            return Err(AppError::validation(
                "page",
                format!("must be between 1 and {}", Self::MAX_PAGE),
            ));
        }
        if !(1..=Self::MAX_PAGE_SIZE).contains(&page_size) {
            return Err(AppError::validation(
                "page_size",
                format!("must be between 1 and {}", Self::MAX_PAGE_SIZE),
            ));
        }
        Ok(Self { page, page_size })
    }

    /// 1-based page number.
    #[must_use]
    pub const fn page(&self) -> u32 {
        self.page
    }

    /// Items per page.
    #[must_use]
    pub const fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Rows to skip.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        (self.page as u64 - 1) * self.page_size as u64
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: Self::DEFAULT_PAGE_SIZE,
        }
    }
}

/// One page of results and the size of the whole result set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The request that produced it.
    pub request: PageRequest,
    /// Items across all pages.
    pub total_items: u64,
}

impl<T> Page<T> {
    /// Number of pages (0 when there are no items).
    #[must_use]
    pub const fn total_pages(&self) -> u64 {
        self.total_items.div_ceil(self.request.page_size as u64)
    }

    /// Maps the items, keeping the paging information.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            request: self.request,
            total_items: self.total_items,
        }
    }
}

/// Which orders a list shows. Fields combine with AND; `None` means any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Only this customer's orders.
    pub customer_id: Option<CustomerId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_and_page_size_are_bounded() {
        assert!(PageRequest::new(1, 1).is_ok());
        assert!(PageRequest::new(1, 100).is_ok());
        assert!(matches!(
            PageRequest::new(0, 20),
            Err(AppError::Validation { field: "page", .. })
        ));
        assert!(matches!(
            PageRequest::new(1, 0),
            Err(AppError::Validation {
                field: "page_size",
                ..
            })
        ));
        assert!(matches!(
            PageRequest::new(1, 101),
            Err(AppError::Validation {
                field: "page_size",
                ..
            })
        ));
        assert!(matches!(
            PageRequest::new(PageRequest::MAX_PAGE + 1, 1),
            Err(AppError::Validation { field: "page", .. })
        ));
    }

    #[test]
    fn total_pages_rounds_up_and_offset_skips_earlier_pages() {
        let request = PageRequest::new(3, 20).unwrap();
        assert_eq!(request.offset(), 40);
        let page = |total_items| Page::<()> {
            items: vec![],
            request,
            total_items,
        };
        assert_eq!(page(0).total_pages(), 0);
        assert_eq!(page(20).total_pages(), 1);
        assert_eq!(page(41).total_pages(), 3);
    }
}
