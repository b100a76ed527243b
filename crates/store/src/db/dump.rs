//! Every value of every table as text, found through the database's own catalog: what a dump of
//! the database would reveal, for tests that check what it must not. Knows no table.

use diesel::{
    connection::SimpleConnection, sql_query, sql_types::Text, QueryableByName, RunQueryDsl,
};

use super::connection::{self, DbConnection};
use crate::{backend::DbTarget, StoreError};

/// One stored value: where it is and what it says (binary columns in hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpedValue {
    pub table: String,
    pub column: String,
    pub text: String,
}

#[derive(QueryableByName)]
struct CatalogColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct Cell {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    text: Option<String>,
}

/// Every non-null value of every column of every table of the database the target names.
pub(crate) fn dump(target: &DbTarget) -> Result<Vec<DumpedValue>, StoreError> {
    let mut conn = connection::open(target)?;
    let mut values = Vec::new();
    for column in catalog(&mut conn)? {
        let cells: Vec<Cell> = sql_query(cell_query(&conn, &column)).load(&mut conn)?;
        values.extend(cells.into_iter().filter_map(|cell| {
            Some(DumpedValue {
                table: column.table_name.clone(),
                column: column.column_name.clone(),
                text: cell.text?,
            })
        }));
    }
    Ok(values)
}

/// Runs `sql` as it is on the database the target names: for tests that must write what the
/// store never would (rows of an older version, damaged values).
pub(crate) fn execute_batch(target: &DbTarget, sql: &str) -> Result<(), StoreError> {
    Ok(connection::open(target)?.batch_execute(sql)?)
}

fn catalog(conn: &mut DbConnection) -> Result<Vec<CatalogColumn>, StoreError> {
    let query = match conn {
        DbConnection::Mysql(_) => {
            "SELECT CAST(table_name AS CHAR) AS table_name, CAST(column_name AS CHAR) AS column_name, \
             CAST(data_type AS CHAR) AS data_type FROM information_schema.columns \
             WHERE table_schema = DATABASE()"
        }
        DbConnection::Postgresql(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS data_type FROM information_schema.columns \
             WHERE table_schema = current_schema()"
        }
        DbConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, lower(p.type) AS data_type \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
        }
    };
    Ok(sql_query(query).load(conn)?)
}

/// Names come from the catalog, never from input; quoted all the same.
fn cell_query(conn: &DbConnection, column: &CatalogColumn) -> String {
    let binary = ["blob", "bytea", "binary", "varbinary"]
        .iter()
        .any(|kind| column.data_type.contains(kind));
    let (table, name) = (&column.table_name, &column.column_name);
    match conn {
        DbConnection::Mysql(_) if binary => format!("SELECT HEX(`{name}`) AS text FROM `{table}`"),
        DbConnection::Mysql(_) => format!("SELECT CAST(`{name}` AS CHAR) AS text FROM `{table}`"),
        DbConnection::Postgresql(_) if binary => {
            format!("SELECT encode(\"{name}\", 'hex') AS text FROM \"{table}\"")
        }
        DbConnection::Postgresql(_) => format!("SELECT \"{name}\"::text AS text FROM \"{table}\""),
        DbConnection::Sqlite(_) => format!(
            "SELECT CASE WHEN typeof(\"{name}\") = 'blob' THEN hex(\"{name}\") \
             ELSE CAST(\"{name}\" AS TEXT) END AS text FROM \"{table}\""
        ),
    }
}
