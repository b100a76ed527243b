//! The plan a database chooses for a statement, as text in its own words: for tests that hold the
//! message pipeline's hot statements to the indexes meant for them. Knows no table.

use diesel::{sql_query, sql_types::Text, QueryableByName, RunQueryDsl};

use super::connection::{self, DbConnection};
use crate::{backend::DbTarget, StoreError};

/// PostgreSQL: one row per line of the plan.
#[derive(QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// MySQL/MariaDB: the whole plan as one JSON document (the tabular form's columns differ
/// between versions).
#[derive(QueryableByName)]
struct MysqlPlan {
    #[diesel(sql_type = Text, column_name = "EXPLAIN")]
    json: String,
}

/// SQLite: one row per step of the plan.
#[derive(QueryableByName)]
struct SqlitePlanStep {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// How the database the target names would run `sql` (which it does not run).
pub(crate) fn explain(target: &DbTarget, sql: &str) -> Result<String, StoreError> {
    let mut conn = connection::open(target)?;
    let lines: Vec<String> = match conn {
        DbConnection::Postgresql(_) => sql_query(format!("EXPLAIN {sql}"))
            .load::<PgPlanLine>(&mut conn)?
            .into_iter()
            .map(|row| row.line)
            .collect(),
        DbConnection::Mysql(_) => sql_query(format!("EXPLAIN FORMAT=JSON {sql}"))
            .load::<MysqlPlan>(&mut conn)?
            .into_iter()
            .map(|row| row.json)
            .collect(),
        DbConnection::Sqlite(_) => sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<SqlitePlanStep>(&mut conn)?
            .into_iter()
            .map(|row| row.detail)
            .collect(),
    };
    Ok(lines.join("\n"))
}
