//! Pagination and list filters shared by the list use cases and repositories.

use chrono::{DateTime, Utc};
use order_domain::{CustomerId, OrderStatus};
use uuid::Uuid;

/// Where a list stopped: the sort key `(created_at, id)` of the last item a
/// client has seen. Lists are newest first, so the next page holds the items
/// strictly before it; reading it costs the same at any depth. How a client
/// carries it (its text form) is the adapter's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListCursor {
    /// Creation time of the last item seen.
    pub created_at: DateTime<Utc>,
    /// Id of the last item seen (breaks ties within one microsecond).
    pub id: Uuid,
}

/// Why a page request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidPage {
    /// The page number is outside `1..=MAX_PAGE`.
    #[error("the page number must be between 1 and {}", PageRequest::MAX_PAGE)]
    Number,
    /// The page size is outside `1..=MAX_PAGE_SIZE`.
    #[error("the page size must be between 1 and {}", PageRequest::MAX_PAGE_SIZE)]
    Size,
    /// The numbered page would skip more than `MAX_OFFSET` items.
    #[error("a numbered page may skip at most {} items", PageRequest::MAX_OFFSET)]
    TooDeep,
}

/// A validated page request: `page >= 1`, `1 <= page_size <= MAX_PAGE_SIZE`,
/// at most [`PageRequest::MAX_OFFSET`] items skipped; or the page after a
/// [`ListCursor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    page_size: u32,
    after: Option<ListCursor>,
    count_total: bool,
}

impl PageRequest {
    /// Largest page a client may ask for.
    pub const MAX_PAGE_SIZE: u32 = 100;
    /// Page size when the client gives none.
    pub const DEFAULT_PAGE_SIZE: u32 = 20;
    /// The largest page number accepted at all (with one item per page: see [`Self::MAX_OFFSET`]).
    pub const MAX_PAGE: u32 = 10_001;
    /// The most items a numbered page may skip. Skipping is a walk over every
    /// skipped row (a million rows cost a quarter of a second); deeper lists
    /// are read after a [`ListCursor`], which costs the same at any depth.
    pub const MAX_OFFSET: u64 = 10_000;

    /// Validates a page request.
    ///
    /// # Errors
    /// [`InvalidPage`] saying which bound is broken.
    pub fn new(page: u32, page_size: u32) -> Result<Self, InvalidPage> {
        if !(1..=Self::MAX_PAGE).contains(&page) {
            return Err(InvalidPage::Number);
        }
        if !(1..=Self::MAX_PAGE_SIZE).contains(&page_size) {
            return Err(InvalidPage::Size);
        }
        let request = Self {
            page,
            page_size,
            after: None,
            count_total: true,
        };
        if request.offset() > Self::MAX_OFFSET {
            return Err(InvalidPage::TooDeep);
        }
        Ok(request)
    }

    /// The page of `page_size` items after `cursor`.
    ///
    /// # Errors
    /// [`InvalidPage::Size`].
    pub fn after(cursor: ListCursor, page_size: u32) -> Result<Self, InvalidPage> {
        Ok(Self {
            after: Some(cursor),
            ..Self::new(1, page_size)?
        })
    }

    /// The same page, with the total counted (`true`, the default: exact up
    /// to a bound, estimated beyond) or only estimated (`false`).
    ///
    /// Counting walks up to 10,000 index entries on every page that has a
    /// next page; a client paging with cursors rarely needs it. The last page
    /// of a numbered list always knows its exact total for free.
    ///
    /// ```
    /// use order_app::PageRequest;
    /// let page = PageRequest::new(1, 20)?.counting_total(false);
    /// assert!(!page.counts_total());
    /// assert!(PageRequest::new(1, 20)?.counts_total());
    /// # Ok::<(), order_app::InvalidPage>(())
    /// ```
    #[must_use]
    pub const fn counting_total(self, count_total: bool) -> Self {
        Self {
            count_total,
            ..self
        }
    }

    /// Whether the total should be counted rather than only estimated.
    #[must_use]
    pub const fn counts_total(&self) -> bool {
        self.count_total
    }

    /// The cursor this page starts after, if it is a cursor page.
    #[must_use]
    pub const fn cursor(&self) -> Option<ListCursor> {
        self.after
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
            after: None,
            count_total: true,
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
    /// Items across all pages (from the cursor on, for a cursor page), exact
    /// or estimated as `total_exact` says.
    pub total_items: u64,
    /// Whether `total_items` was counted; large totals are estimated, because
    /// counting a million rows on every page costs more than the page.
    pub total_exact: bool,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<ListCursor>,
}

impl<T> Page<T> {
    /// A page whose total was counted exactly and that has no next cursor.
    #[must_use]
    pub const fn exact(items: Vec<T>, request: PageRequest, total_items: u64) -> Self {
        Self {
            items,
            request,
            total_items,
            total_exact: true,
            next_cursor: None,
        }
    }
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
            total_exact: self.total_exact,
            next_cursor: self.next_cursor,
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
        assert_eq!(PageRequest::new(0, 20), Err(InvalidPage::Number));
        assert_eq!(PageRequest::new(1, 0), Err(InvalidPage::Size));
        assert_eq!(PageRequest::new(1, 101), Err(InvalidPage::Size));
        assert_eq!(
            PageRequest::new(PageRequest::MAX_PAGE + 1, 1),
            Err(InvalidPage::Number)
        );
    }

    #[test]
    fn numbered_pages_may_skip_at_most_max_offset_items() {
        assert!(PageRequest::new(501, 20).is_ok());
        assert_eq!(PageRequest::new(502, 20), Err(InvalidPage::TooDeep));
        assert!(PageRequest::new(101, 100).is_ok());
        assert!(PageRequest::new(102, 100).is_err());
    }

    #[test]
    fn a_cursor_page_starts_after_its_cursor() {
        let cursor = ListCursor {
            created_at: DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        let page = PageRequest::after(cursor, 50).unwrap();
        assert_eq!(
            (page.cursor(), page.offset(), page.page_size()),
            (Some(cursor), 0, 50)
        );
        assert_eq!(PageRequest::after(cursor, 0), Err(InvalidPage::Size));
    }

    #[test]
    fn total_pages_rounds_up_and_offset_skips_earlier_pages() {
        let request = PageRequest::new(3, 20).unwrap();
        assert_eq!(request.offset(), 40);
        let page = |total_items| Page::<()>::exact(vec![], request, total_items);
        assert_eq!(page(0).total_pages(), 0);
        assert_eq!(page(20).total_pages(), 1);
        assert_eq!(page(41).total_pages(), 3);
    }
}
