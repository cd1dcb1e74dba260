//! How to reach the database, and the few connection-string edits the adapter
//! needs: adding a libpq `connect_timeout`, naming another database on the
//! same server, and hiding the password in logs.
//!
//! libpq waits for an unanswered TCP connect as long as the kernel does (about
//! two minutes) unless the connection string carries `connect_timeout`. The
//! pool's own timeout only bounds how long a caller waits, not how long a
//! connection attempt runs, so the adapter always adds a `connect_timeout` of
//! its own (unless the URL already has one).

use std::fmt;
use std::time::Duration;

use crate::StorageError;

/// Where the database is and how the connection pool behaves.
#[derive(Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// A libpq connection string, `postgres://user:password@host:port/database`
    /// (a `key=value` string also works for [`crate::PgStore::connect`]).
    pub database_url: String,
    /// Most connections the pool opens; a request holds one while it runs.
    /// The server sizes its admission queue (how many API requests may be in
    /// flight) from it.
    pub pool_size: u32,
    /// How long to wait for a connection: both a connection attempt (libpq
    /// `connect_timeout`, in whole seconds, at least 2) and a caller waiting for
    /// a free connection of the pool.
    pub connect_timeout: Duration,
    /// Longest a statement may run on a pooled connection (PostgreSQL
    /// `statement_timeout`, set on each new connection; zero: no limit). The
    /// migrations run without it.
    pub statement_timeout: Duration,
    /// Longest a statement may wait for a lock (PostgreSQL `lock_timeout`;
    /// zero: no limit).
    pub lock_timeout: Duration,
    /// Idle time after which TCP keepalive probes check the link to the
    /// server (libpq `keepalives_idle`; probes every third of it, three of
    /// them), and the longest data may stay unacknowledged (libpq
    /// `tcp_user_timeout`, twice it). A link that silently drops packets is
    /// given up within about twice this, instead of hanging a connection for
    /// the kernel's ~15 minutes.
    pub tcp_keepalive: Duration,
}

impl PgConfig {
    /// Pool size when none is configured.
    pub const DEFAULT_POOL_SIZE: u32 = 10;
    /// Connection timeout when none is configured.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Statement timeout when none is configured.
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Lock timeout when none is configured.
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(2);
    /// TCP keepalive idle time when none is configured.
    pub const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(5);

    /// A configuration with the default pool size and timeout.
    ///
    /// ```
    /// use order_postgres::PgConfig;
    /// let config = PgConfig::new("postgres://postgres@127.0.0.1:5432/orders");
    /// assert_eq!(config.pool_size, PgConfig::DEFAULT_POOL_SIZE);
    /// ```
    #[must_use]
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            lock_timeout: Self::DEFAULT_LOCK_TIMEOUT,
            tcp_keepalive: Self::DEFAULT_TCP_KEEPALIVE,
        }
    }

    /// Refuses values r2d2 would panic on.
    pub(crate) fn validate(&self) -> Result<(), StorageError> {
        if self.pool_size == 0 {
            return Err(StorageError::InvalidConfig(
                "pool_size must be at least 1".into(),
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(StorageError::InvalidConfig(
                "connect_timeout must be positive".into(),
            ));
        }
        if self.database_url.trim().is_empty() {
            return Err(StorageError::InvalidConfig(
                "database_url must not be empty".into(),
            ));
        }
        Ok(())
    }
}

/// The password never appears in logs or panics.
impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("database_url", &redact(&self.database_url))
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field("tcp_keepalive", &self.tcp_keepalive)
            .finish()
    }
}

/// The URL with a libpq `connect_timeout` (whole seconds, at least 2: libpq
/// treats 1 as 2), unless it already has one.
pub(crate) fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let seconds = timeout
        .as_secs()
        .saturating_add(u64::from(timeout.subsec_nanos() > 0))
        .max(2);
    if is_url(url) {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}connect_timeout={seconds}")
    } else {
        format!("{url} connect_timeout={seconds}")
    }
}

/// The URL with libpq TCP keepalives and `tcp_user_timeout` derived from
/// `idle` (see [`PgConfig::tcp_keepalive`]), unless it sets keepalives itself
/// or `idle` is zero.
pub(crate) fn with_keepalives(url: &str, idle: Duration) -> String {
    if idle.is_zero() || url.contains("keepalives") || url.contains("tcp_user_timeout") {
        return url.to_owned();
    }
    let idle_secs = idle.as_secs().max(1);
    let interval = (idle_secs / 3).max(1);
    let user_timeout_ms = idle.as_millis().saturating_mul(2);
    let params = [
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", idle_secs.to_string()),
        ("keepalives_interval", interval.to_string()),
        ("keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", user_timeout_ms.to_string()),
    ];
    let mut out = url.to_owned();
    for (key, value) in params {
        if is_url(&out) {
            let separator = if out.contains('?') { '&' } else { '?' };
            out = format!("{out}{separator}{key}={value}");
        } else {
            out = format!("{out} {key}={value}");
        }
    }
    out
}

fn is_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A `postgres://` URL cut into what comes before the database name, the
/// (still percent-encoded) name, and the query string with its `?`.
struct UrlParts<'a> {
    base: &'a str,
    database: &'a str,
    query: &'a str,
}

fn split_url(url: &str) -> Result<UrlParts<'_>, StorageError> {
    let invalid = |why: &str| StorageError::InvalidConfig(format!("{}: {why}", redact(url)));
    if !is_url(url) {
        return Err(invalid("expected a postgres:// URL"));
    }
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (before_query, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    if query.contains("dbname=") {
        return Err(invalid("name the database in the path, not with dbname="));
    }
    let path_start = before_query[scheme_end..].find('/').map(|i| scheme_end + i);
    Ok(match path_start {
        Some(i) => UrlParts {
            base: &before_query[..i],
            database: &before_query[i + 1..],
            query,
        },
        None => UrlParts {
            base: before_query,
            database: "",
            query,
        },
    })
}

/// The database a `postgres://` URL names (percent-decoded).
pub(crate) fn database_name(url: &str) -> Result<String, StorageError> {
    let parts = split_url(url)?;
    let name = percent_decode(parts.database).ok_or_else(|| {
        StorageError::InvalidConfig(format!(
            "{}: the database name is not valid percent-encoded UTF-8",
            redact(url)
        ))
    })?;
    if name.is_empty() {
        return Err(StorageError::InvalidConfig(format!(
            "{}: the URL names no database",
            redact(url)
        )));
    }
    Ok(name)
}

/// The same server, user and options, another database.
pub(crate) fn with_database(url: &str, database: &str) -> Result<String, StorageError> {
    let parts = split_url(url)?;
    Ok(format!(
        "{}/{}{}",
        parts.base,
        percent_encode(database),
        parts.query
    ))
}

/// `postgres://user:***@host/db`: the URL without its password.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        // key=value form: hide a password=... value.
        return url
            .split_whitespace()
            .map(|pair| {
                if pair.starts_with("password=") {
                    "password=***"
                } else {
                    pair
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let user_info = &authority[..at];
    let Some(colon) = user_info.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end],
        &user_info[..colon],
        &url[scheme_end + at..]
    )
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connect_timeout_is_added_in_whole_seconds_of_at_least_two() {
        let url = "postgres://u@h:5432/db";
        assert_eq!(
            with_connect_timeout(url, Duration::from_millis(1500)),
            "postgres://u@h:5432/db?connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout(url, Duration::from_millis(5001)),
            "postgres://u@h:5432/db?connect_timeout=6"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable", Duration::from_secs(3)),
            "postgres://u@h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("host=h dbname=db", Duration::from_secs(3)),
            "host=h dbname=db connect_timeout=3"
        );
    }

    #[test]
    fn keepalives_and_a_tcp_user_timeout_are_added_unless_set() {
        assert_eq!(
            with_keepalives("postgres://u@h/db", Duration::from_secs(6)),
            "postgres://u@h/db?keepalives=1&keepalives_idle=6&keepalives_interval=2\
             &keepalives_count=3&tcp_user_timeout=12000"
        );
        assert_eq!(
            with_keepalives("host=h", Duration::from_secs(1)),
            "host=h keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=3 tcp_user_timeout=2000"
        );
        let own = "postgres://u@h/db?keepalives_idle=60";
        assert_eq!(with_keepalives(own, Duration::from_secs(6)), own);
        assert_eq!(
            with_keepalives("postgres://u@h/db", Duration::ZERO),
            "postgres://u@h/db"
        );
    }

    #[test]
    fn a_connect_timeout_already_in_the_url_is_kept() {
        let url = "postgres://u@h/db?connect_timeout=30";
        assert_eq!(with_connect_timeout(url, Duration::from_secs(1)), url);
    }

    #[test]
    fn the_database_name_is_read_and_replaced() {
        let url = "postgres://u:p%2Fw@h:5432/my%20orders?sslmode=disable";
        assert_eq!(database_name(url).unwrap(), "my orders");
        assert_eq!(
            with_database(url, "postgres").unwrap(),
            "postgres://u:p%2Fw@h:5432/postgres?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://h", "orders").unwrap(),
            "postgresql://h/orders"
        );
    }

    #[test]
    fn urls_without_a_usable_database_name_are_invalid() {
        for url in [
            "postgres://u@h",
            "postgres://u@h/",
            "host=h dbname=db",
            "postgres://u@h/db?dbname=other",
            "postgres://u@h/%zz",
        ] {
            assert!(
                matches!(database_name(url), Err(StorageError::InvalidConfig(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/orders"),
            "postgres://app:***@db:5432/orders"
        );
        assert_eq!(
            redact("postgres://app@db/orders"),
            "postgres://app@db/orders"
        );
        assert_eq!(redact("host=db password=s3cret"), "host=db password=***");
        let config = PgConfig::new("postgres://app:s3cret@db/orders");
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn configurations_r2d2_would_panic_on_are_refused() {
        let mut config = PgConfig::new("postgres://db/orders");
        assert!(config.validate().is_ok());
        config.pool_size = 0;
        assert!(matches!(
            config.validate(),
            Err(StorageError::InvalidConfig(_))
        ));
        config.pool_size = 1;
        config.connect_timeout = Duration::ZERO;
        assert!(matches!(
            config.validate(),
            Err(StorageError::InvalidConfig(_))
        ));
    }
}
