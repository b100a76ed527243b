//! Third-party sticker packs and their stickers (spec onprem-stickerpacks §5–§6). Sticker
//! indexes are never reused, so an index a client cached never names a different sticker.

use diesel::prelude::*;

use crate::{
    schema::{stickerpacks, stickers},
    store::unix_now,
    Store, StoreError,
};

/// A pack's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = stickerpacks)]
pub struct StickerPack {
    pub id: String,
    pub publisher: String,
    pub name: String,
    pub ios_app_store_link: Option<String>,
    pub android_app_store_link: Option<String>,
}

/// Fields of a pack update; `None` keeps the stored value.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = stickerpacks)]
pub struct StickerPackChanges {
    pub publisher: Option<String>,
    pub name: Option<String>,
    pub ios_app_store_link: Option<String>,
    pub android_app_store_link: Option<String>,
}

/// One sticker of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sticker {
    pub index: i32,
    /// What `POST /v1/messages` takes as `sticker.id`.
    pub id: String,
    pub image_data_id: String,
    pub emojis: Vec<String>,
}

/// The stored columns of one sticker a [`Sticker`] is made of (its index is the key).
#[derive(Queryable, Selectable)]
#[diesel(table_name = stickers)]
struct StickerRow {
    sticker_id: String,
    image_data_id: String,
    emojis: String,
}

/// Fields of a sticker update; a new image comes with a new sticker id.
#[derive(Debug, Default, Clone)]
pub struct StickerChanges {
    pub image: Option<(String, String)>,
    pub emojis: Option<Vec<String>>,
}

/// Emojis are stored one per line (a single emoji never contains a line break).
fn join_emojis(emojis: &[String]) -> String {
    emojis.join("\n")
}

fn split_emojis(stored: &str) -> Vec<String> {
    stored
        .split('\n')
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

impl Store {
    pub async fn create_stickerpack(&self, pack: StickerPack) -> Result<(), StoreError> {
        self.run(move |conn| {
            diesel::insert_into(stickerpacks::table)
                .values((
                    stickerpacks::id.eq(&pack.id),
                    stickerpacks::publisher.eq(&pack.publisher),
                    stickerpacks::name.eq(&pack.name),
                    stickerpacks::ios_app_store_link.eq(&pack.ios_app_store_link),
                    stickerpacks::android_app_store_link.eq(&pack.android_app_store_link),
                    stickerpacks::next_index.eq(0),
                    stickerpacks::created_at.eq(unix_now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    /// Pack ids, oldest first.
    pub async fn stickerpack_ids(&self) -> Result<Vec<String>, StoreError> {
        self.run(|conn| {
            Ok(stickerpacks::table
                .order((stickerpacks::created_at, stickerpacks::id))
                .select(stickerpacks::id)
                .load(conn)?)
        })
        .await
    }

    pub async fn stickerpack(&self, id: &str) -> Result<Option<StickerPack>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            Ok(stickerpacks::table
                .find(&id)
                .select(StickerPack::as_select())
                .first(conn)
                .optional()?)
        })
        .await
    }

    /// False when there is no such pack.
    pub async fn update_stickerpack(
        &self,
        id: &str,
        changes: StickerPackChanges,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
                let exists = stickerpacks::table
                    .find(&id)
                    .select(stickerpacks::id)
                    .first::<String>(conn)
                    .optional()?
                    .is_some();
                if exists {
                    diesel::update(stickerpacks::table.find(&id))
                        .set(&changes)
                        .execute(conn)?;
                }
                Ok(exists)
            })
        })
        .await
    }

    /// Deletes the pack with its stickers; false when there is no such pack.
    pub async fn delete_stickerpack(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
                diesel::delete(stickers::table.filter(stickers::pack_id.eq(&id))).execute(conn)?;
                let deleted = diesel::delete(stickerpacks::table.find(&id)).execute(conn)?;
                Ok(deleted > 0)
            })
        })
        .await
    }

    /// Adds a sticker under the pack's next index, which it returns; `None` when there is no
    /// such pack.
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
        let emojis = join_emojis(emojis);
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
                let Some(index) = stickerpacks::table
                    .find(&pack_id)
                    .select(stickerpacks::next_index)
                    .first::<i32>(conn)
                    .optional()?
                else {
                    return Ok(None);
                };
                diesel::update(stickerpacks::table.find(&pack_id))
                    .set(stickerpacks::next_index.eq(index + 1))
                    .execute(conn)?;
                diesel::insert_into(stickers::table)
                    .values((
                        stickers::pack_id.eq(&pack_id),
                        stickers::sticker_index.eq(index),
                        stickers::sticker_id.eq(&sticker_id),
                        stickers::image_data_id.eq(&image),
                        stickers::emojis.eq(&emojis),
                    ))
                    .execute(conn)?;
                Ok(Some(index))
            })
        })
        .await
    }

    /// The pack's sticker indexes in order; `None` when there is no such pack.
    pub async fn sticker_indexes(&self, pack_id: &str) -> Result<Option<Vec<i32>>, StoreError> {
        let pack_id = pack_id.to_string();
        self.run(move |conn| {
            let exists = stickerpacks::table
                .find(&pack_id)
                .select(stickerpacks::id)
                .first::<String>(conn)
                .optional()?
                .is_some();
            if !exists {
                return Ok(None);
            }
            Ok(Some(
                stickers::table
                    .filter(stickers::pack_id.eq(&pack_id))
                    .order(stickers::sticker_index)
                    .select(stickers::sticker_index)
                    .load(conn)?,
            ))
        })
        .await
    }

    pub async fn sticker(&self, pack_id: &str, index: i32) -> Result<Option<Sticker>, StoreError> {
        let pack_id = pack_id.to_string();
        self.run(move |conn| {
            let row = stickers::table
                .find((&pack_id, index))
                .select(StickerRow::as_select())
                .first(conn)
                .optional()?;
            Ok(row.map(|row| Sticker {
                index,
                id: row.sticker_id,
                image_data_id: row.image_data_id,
                emojis: split_emojis(&row.emojis),
            }))
        })
        .await
    }

    /// The `image_data_id` of the third-party sticker whose id is `sticker_id`, for sends.
    pub async fn sticker_image(&self, sticker_id: &str) -> Result<Option<String>, StoreError> {
        let sticker_id = sticker_id.to_string();
        self.run(move |conn| {
            Ok(stickers::table
                .filter(stickers::sticker_id.eq(&sticker_id))
                .select(stickers::image_data_id)
                .first(conn)
                .optional()?)
        })
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
        self.run(move |conn| {
            crate::dialect::write_transaction(conn, |conn| {
                let target = stickers::table.find((&pack_id, index));
                let found = target
                    .select(stickers::sticker_id)
                    .first::<String>(conn)
                    .optional()?
                    .is_some();
                if let (true, Some((sticker_id, image))) = (found, &changes.image) {
                    diesel::update(target)
                        .set((
                            stickers::sticker_id.eq(sticker_id),
                            stickers::image_data_id.eq(image),
                        ))
                        .execute(conn)?;
                }
                if let (true, Some(emojis)) = (found, &changes.emojis) {
                    diesel::update(target)
                        .set(stickers::emojis.eq(join_emojis(emojis)))
                        .execute(conn)?;
                }
                Ok(found)
            })
        })
        .await
    }

    /// False when there is no such sticker. The index is not reused.
    pub async fn delete_sticker(&self, pack_id: &str, index: i32) -> Result<bool, StoreError> {
        let pack_id = pack_id.to_string();
        self.run(move |conn| {
            let deleted = diesel::delete(stickers::table.find((&pack_id, index))).execute(conn)?;
            Ok(deleted > 0)
        })
        .await
    }
}
