//! The database's clock as an SQL expression (unix milliseconds), for times that several processes
//! compare: a lease's expiry, a node's last heartbeat. Each process's own clock may be off; the
//! database's is the one they share. The SQL differs per backend, so the expression renders the
//! right spelling for the connection it runs on.

use diesel::backend::Backend;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::mysql::Mysql;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::sqlite::Sqlite;
use diesel::{Connection, QueryResult};

use super::DbConnection;

/// The database's time now plus `plus_ms`, in unix milliseconds. Every use within one statement
/// sees the same instant on all three backends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DbNow {
    plus_ms: i64,
}

/// The database's time now.
pub(crate) fn db_now() -> DbNow {
    DbNow { plus_ms: 0 }
}

/// The database's time `ms` milliseconds from now.
pub(crate) fn db_now_plus(ms: i64) -> DbNow {
    DbNow { plus_ms: ms }
}

impl DbNow {
    fn walk<'b, DB>(&'b self, now: &str, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: Backend + diesel::sql_types::HasSqlType<BigInt>,
        i64: diesel::serialize::ToSql<BigInt, DB>,
    {
        out.push_sql("(");
        out.push_sql(now);
        out.push_sql(" + ");
        out.push_bind_param::<BigInt, i64>(&self.plus_ms)?;
        out.push_sql(")");
        Ok(())
    }
}

impl QueryFragment<Mysql> for DbNow {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        // NOW(3) is fixed for the whole statement.
        self.walk("CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)", out)
    }
}

impl QueryFragment<Pg> for DbNow {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // CURRENT_TIMESTAMP is fixed for the whole transaction.
        self.walk(
            "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT)",
            out,
        )
    }
}

impl QueryFragment<Sqlite> for DbNow {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        // 'now' is fixed for the whole statement; julianday keeps the milliseconds.
        self.walk(
            "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            out,
        )
    }
}

type MultiBackend = <DbConnection as Connection>::Backend;

impl QueryFragment<MultiBackend> for DbNow {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

/// The text differs per backend but never per value, so the type can key the statement cache.
impl QueryId for DbNow {
    type QueryId = DbNow;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Expression for DbNow {
    type SqlType = BigInt;
}

impl<QS> AppearsOnTable<QS> for DbNow {}

impl<QS> SelectableExpression<QS> for DbNow {}

impl<GroupBy> ValidGrouping<GroupBy> for DbNow {
    type IsAggregate = is_aggregate::Never;
}
