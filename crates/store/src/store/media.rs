//! Media metadata (spec onprem-messaging §5) and third-party sticker packs (spec
//! onprem-stickerpacks §5–§6).

use super::Store;
use crate::tables::media::{self, MediaRecord};
use crate::tables::stickerpacks::{self, Sticker, StickerChanges, StickerPack, StickerPackChanges};
use crate::StoreError;

impl Store {
    /// Records a media file. An id that exists already is a conflict (`StoreError::Conflict`).
    pub async fn insert_media(&self, record: MediaRecord) -> Result<(), StoreError> {
        self.run(move |conn| media::insert(conn, &record)).await
    }

    pub async fn find_media(&self, id: &str) -> Result<Option<MediaRecord>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| media::find(conn, &id)).await
    }

    /// A send used the media: its 30-day garbage-collection timer starts again.
    pub async fn touch_media(&self, id: &str, now: i64) -> Result<(), StoreError> {
        let id = id.to_string();
        self.run(move |conn| media::touch(conn, &id, now)).await
    }

    /// False when there was no such media.
    pub async fn delete_media(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| media::delete(conn, &id)).await
    }

    /// Ids of media not used since `unused_since` (unix seconds), at most `limit`.
    pub async fn unused_media(
        &self,
        unused_since: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        self.run(move |conn| media::unused(conn, unused_since, limit))
            .await
    }

    pub async fn create_stickerpack(&self, pack: StickerPack) -> Result<(), StoreError> {
        self.run(move |conn| stickerpacks::create(conn, &pack))
            .await
    }

    /// Pack ids, oldest first.
    pub async fn stickerpack_ids(&self) -> Result<Vec<String>, StoreError> {
        self.run(stickerpacks::ids).await
    }

    pub async fn stickerpack(&self, id: &str) -> Result<Option<StickerPack>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| stickerpacks::find(conn, &id)).await
    }

    /// False when there is no such pack.
    pub async fn update_stickerpack(
        &self,
        id: &str,
        changes: StickerPackChanges,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| stickerpacks::update(conn, &id, &changes))
            .await
    }

    /// Deletes the pack with its stickers; false when there is no such pack.
    pub async fn delete_stickerpack(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| stickerpacks::delete(conn, &id)).await
    }

    /// Adds a sticker under the pack's next index, which it returns; `None` when there is no
    /// such pack. Indexes are never reused, so an index a client cached never names a different
    /// sticker.
    pub async fn add_sticker(
        &self,
        pack_id: &str,
        sticker_id: &str,
        image_data_id: &str,
        emojis: &[String],
    ) -> Result<Option<i32>, StoreError> {
        let (pack_id, sticker_id, image) = (
            pack_id.to_string(),
            sticker_id.to_string(),
            image_data_id.to_string(),
        );
        let emojis = emojis.to_vec();
        self.run(move |conn| {
            stickerpacks::add_sticker(conn, &pack_id, &sticker_id, &image, &emojis)
        })
        .await
    }

    /// The pack's sticker indexes in order; `None` when there is no such pack.
    pub async fn sticker_indexes(&self, pack_id: &str) -> Result<Option<Vec<i32>>, StoreError> {
        let pack_id = pack_id.to_string();
        self.run(move |conn| stickerpacks::sticker_indexes(conn, &pack_id))
            .await
    }

    pub async fn sticker(&self, pack_id: &str, index: i32) -> Result<Option<Sticker>, StoreError> {
        let pack_id = pack_id.to_string();
        self.run(move |conn| stickerpacks::sticker(conn, &pack_id, index))
            .await
    }

    /// The `image_data_id` of the third-party sticker whose id is `sticker_id`, for sends.
    pub async fn sticker_image(&self, sticker_id: &str) -> Result<Option<String>, StoreError> {
        let sticker_id = sticker_id.to_string();
        self.run(move |conn| stickerpacks::sticker_image(conn, &sticker_id))
            .await
    }

    /// False when there is no such sticker.
    pub async fn update_sticker(
        &self,
        pack_id: &str,
        index: i32,
        changes: StickerChanges,
    ) -> Result<bool, StoreError> {
        let pack_id = pack_id.to_string();
        self.run(move |conn| stickerpacks::update_sticker(conn, &pack_id, index, &changes))
            .await
    }

    /// False when there is no such sticker. The index is not reused.
    pub async fn delete_sticker(&self, pack_id: &str, index: i32) -> Result<bool, StoreError> {
        let pack_id = pack_id.to_string();
        self.run(move |conn| stickerpacks::delete_sticker(conn, &pack_id, index))
            .await
    }
}
