//! Hand-written SQL that diesel prepares once per connection and reuses.
//!
//! diesel caches a prepared statement only when it can tell from the query's
//! type that its SQL never changes. `sql_query`, every `UPDATE` and every
//! multi-row `INSERT` fail that test, so diesel sends them as PostgreSQL's
//! unnamed statement: parsed and planned again on every call. The write path's
//! statements (a CTE that writes the order row and its events together) are
//! written here instead as one type each, whose SQL is a constant: diesel
//! keys its statement cache by that type, so the second execution on a
//! connection is a bind and an execute of the named statement.
//!
//! The SQL is written as PostgreSQL will log it, with `$1`, `$2`, ... in
//! order, each used once; [`Binds`] checks that while it writes the binds, so
//! a statement whose placeholders and binds disagree fails on its first use
//! (every statement has a test) instead of sending wrong values.

use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::result::Error as DieselError;
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::QueryResult;

/// Writes a constant SQL text with its `$n` placeholders, each bound in turn.
pub(crate) struct Binds<'a, 'b> {
    out: AstPass<'a, 'b, Pg>,
    /// The SQL not written yet; starts at a placeholder after [`Binds::new`].
    rest: &'static str,
    /// The number the next placeholder must carry.
    next: usize,
}

impl<'a, 'b> Binds<'a, 'b> {
    /// Starts writing `sql`: everything up to its first placeholder.
    pub(crate) fn new(sql: &'static str, out: AstPass<'a, 'b, Pg>) -> Self {
        let mut binds = Self {
            out,
            rest: sql,
            next: 1,
        };
        binds.write_up_to_placeholder();
        binds
    }

    /// Binds the next placeholder to `value`, as SQL type `ST`.
    pub(crate) fn bind<ST, U>(&mut self, value: &'b U) -> QueryResult<&mut Self>
    where
        Pg: HasSqlType<ST>,
        U: ToSql<ST, Pg> + ?Sized,
    {
        let digits = self
            .rest
            .strip_prefix('$')
            .map(|after| after.bytes().take_while(u8::is_ascii_digit).count())
            .unwrap_or_default();
        let number = self
            .rest
            .get(1..=digits)
            .and_then(|n| n.parse::<usize>().ok());
        if number != Some(self.next) {
            return Err(mismatch(format!(
                "bind {} meets {:?}",
                self.next,
                self.rest.get(..=digits).unwrap_or(self.rest)
            )));
        }
        // diesel writes `$n` itself, numbering binds in the order they come.
        self.out.push_bind_param::<ST, U>(value)?;
        self.rest = &self.rest[1 + digits..];
        self.next += 1;
        self.write_up_to_placeholder();
        Ok(self)
    }

    /// Ends the statement: every placeholder must have been bound.
    pub(crate) fn finish(self) -> QueryResult<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(mismatch(format!(
                "{} binds, but the SQL goes on with {:?}",
                self.next - 1,
                self.rest.get(..12).unwrap_or(self.rest)
            )))
        }
    }

    fn write_up_to_placeholder(&mut self) {
        let at = self.rest.find('$').unwrap_or(self.rest.len());
        self.out.push_sql(&self.rest[..at]);
        self.rest = &self.rest[at..];
    }
}

fn mismatch(what: String) -> DieselError {
    DieselError::QueryBuilderError(format!("placeholders and binds disagree: {what}").into())
}

/// Makes `$name<'_>` (a `QueryFragment<Pg>` writing constant SQL through
/// [`Binds`]) a statement diesel caches by its type, that can be executed
/// or loaded into `QueryableByName` rows.
macro_rules! cached_statement {
    ($name:ident) => {
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = $name<'static>;
            // The SQL is a constant: one prepared statement serves every value.
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $name<'_> {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $name<'_> {}
    };
}
pub(crate) use cached_statement;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use diesel::pg::{Pg, PgQueryBuilder};
    use diesel::query_builder::{AstPass, QueryFragment, QueryId};
    use diesel::sql_types::{BigInt, Text};
    use diesel::QueryResult;

    use super::Binds;

    struct Pair<'a> {
        sql: &'static str,
        name: &'a str,
        count: i64,
    }

    cached_statement!(Pair);

    impl QueryFragment<Pg> for Pair<'_> {
        fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            let mut binds = Binds::new(self.sql, out);
            binds
                .bind::<Text, _>(self.name)?
                .bind::<BigInt, _>(&self.count)?;
            binds.finish()
        }
    }

    fn sql(sql: &'static str) -> QueryResult<String> {
        let mut builder = PgQueryBuilder::default();
        Pair {
            sql,
            name: "a",
            count: 1,
        }
        .to_sql(&mut builder, &Pg)?;
        Ok(diesel::query_builder::QueryBuilder::finish(builder))
    }

    #[test]
    fn the_sql_is_sent_as_written_when_placeholders_and_binds_agree() {
        let text = "SELECT $1::text AS name, $2::int8 + 10 AS n";
        assert_eq!(sql(text).unwrap(), text);
        assert!(Pair::query_id().is_some(), "cached by its type");
    }

    #[test]
    fn placeholders_out_of_order_missing_or_extra_are_refused() {
        for (text, why) in [
            ("SELECT $2::int8, $1::text", "numbered out of order"),
            ("SELECT $1::text", "fewer placeholders than binds"),
            (
                "SELECT $1::text, $2::int8, $3::int8",
                "more placeholders than binds",
            ),
            ("SELECT $1::text, $12::int8", "$12 is not $2"),
            ("SELECT $1::text, $::int8", "a $ without a number"),
        ] {
            assert!(sql(text).is_err(), "{why}: {text}");
        }
    }
}
