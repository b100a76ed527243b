//! Media metadata (spec onprem-messaging §5). The bytes live in the media directory as a file
//! named by the id; this table knows their type, digest and when they were last used, for
//! `GET /v1/media/{id}` and the 30-day media garbage collection.

use diesel::prelude::*;

use crate::{db::DbConnection, schema::media, StoreError};

/// One stored media file. Times are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = media)]
pub struct MediaRecord {
    pub id: String,
    pub mime_type: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// An id that exists already is a conflict (`StoreError::Conflict`).
pub(crate) fn insert(conn: &mut DbConnection, record: &MediaRecord) -> Result<(), StoreError> {
    diesel::insert_into(media::table)
        .values(record)
        .execute(conn)?;
    Ok(())
}

pub(crate) fn find(conn: &mut DbConnection, id: &str) -> Result<Option<MediaRecord>, StoreError> {
    Ok(media::table
        .find(id)
        .select(MediaRecord::as_select())
        .first(conn)
        .optional()?)
}

/// Restarts the media's 30-day garbage-collection timer.
pub(crate) fn touch(conn: &mut DbConnection, id: &str, now: i64) -> Result<(), StoreError> {
    diesel::update(media::table.find(id))
        .set(media::last_used_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// False when there was no such media.
pub(crate) fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(media::table.find(id)).execute(conn)? > 0)
}

/// Ids of media not used since `unused_since` (unix seconds), at most `limit`.
pub(crate) fn unused(
    conn: &mut DbConnection,
    unused_since: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(media::table
        .filter(media::last_used_at.lt(unused_since))
        .order(media::last_used_at.asc())
        .limit(limit)
        .select(media::id)
        .load(conn)?)
}
