//! Media metadata (spec onprem-messaging §5). The bytes live in the media directory as a file
//! named by the id; this table knows their type, digest and when they were last used, for
//! `GET /v1/media/{id}` and the 30-day media garbage collection.

use diesel::prelude::*;

use crate::{schema::media, Store, StoreError};

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

impl Store {
    /// Records a media file. An id that exists already is a conflict (`StoreError::Conflict`).
    pub async fn insert_media(&self, record: MediaRecord) -> Result<(), StoreError> {
        self.run(move |conn| {
            diesel::insert_into(media::table)
                .values(&record)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    pub async fn find_media(&self, id: &str) -> Result<Option<MediaRecord>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            Ok(media::table
                .find(id)
                .select(MediaRecord::as_select())
                .first(conn)
                .optional()?)
        })
        .await
    }

    /// A send used the media: its 30-day garbage-collection timer starts again.
    pub async fn touch_media(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            diesel::update(media::table.find(id))
                .set(media::last_used_at.eq(now))
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    /// False when there was no such media.
    pub async fn delete_media(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| Ok(diesel::delete(media::table.find(id)).execute(conn)? > 0))
            .await
    }

    /// Ids of media not used since `unused_since` (unix seconds), at most `limit`.
    pub async fn unused_media(
        &self,
        unused_since: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        self.run(move |conn| {
            Ok(media::table
                .filter(media::last_used_at.lt(unused_since))
                .order(media::last_used_at.asc())
                .limit(limit)
                .select(media::id)
                .load(conn)?)
        })
        .await
    }
}
